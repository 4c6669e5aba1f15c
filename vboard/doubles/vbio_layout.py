# Layout of the virtual board's I/O file, shared by the MicroPython doubles (machine.py,
# network.py) and the host (rung.vboard). Both processes map the same small file: the
# host writes what the world drives (input levels, ADC values, Wi-Fi reachability), the
# doubles write what the board drives (pin modes, output levels, PWM, watchdog feeds).
# Plain ints so that CPython and MicroPython both import it.
MAGIC = b"RVB1"
REQ = 4  # 1 byte, double -> host: REQ_* below
WIFI = 5  # 1 byte, double -> host: 0 off, 1 connecting, 2 connected
AP_UP = 6  # 1 byte, host -> double: 1 the access point answers, 0 it does not
GC_BUSY = 7  # 1 byte, double (vbgc.py) -> host: 1 while gc.collect() runs
WDT_TIMEOUT = 8  # u32 LE ms, double -> host: 0 = no watchdog started
WDT_FEEDS = 12  # u32 LE, double -> host: incremented by every WDT.feed()
SLOTS = 100  # GPIO 0..89, named pins from 90 (LED_SLOT)
LED_SLOT = 90
MODE = 16  # SLOTS bytes: see MODE_* below
PULL = MODE + SLOTS  # SLOTS bytes: 0 none, 1 up, 2 down
LEVEL_IN = PULL + SLOTS  # SLOTS bytes, host: 0 low, 1 high, 2 not driven
LEVEL_OUT = LEVEL_IN + SLOTS  # SLOTS bytes, double: 0 low, 1 high
ADC_IN = LEVEL_OUT + SLOTS  # SLOTS u16 LE, host: the read_u16() value
PWM_FREQ = ADC_IN + 2 * SLOTS  # SLOTS u32 LE, double
PWM_DUTY = PWM_FREQ + 4 * SLOTS  # SLOTS u16 LE, double (duty_u16)
FLASH_WRITES = PWM_DUTY + 2 * SLOTS  # u32 LE, double: block writes since the boot
CUT_AT = FLASH_WRITES + 4  # u32 LE, host: drop block writes from this count on (a cut)
RISES = CUT_AT + 4  # SLOTS bytes, host: rising edges driven on the pin, mod 256
FALLS = RISES + SLOTS  # SLOTS bytes, host: falling edges, mod 256
GC_HOLD = FALLS + SLOTS  # 1 byte, host -> double: 1 while a Ctrl-C is on its way
SIZE = GC_HOLD + 1
NO_CUT = 0xFFFFFFFF

MODE_UNUSED = 0
MODE_IN = 1
MODE_OUT = 2
MODE_OPEN_DRAIN = 3
MODE_ADC = 4
MODE_PWM = 5

REQ_HARD = 1
REQ_SOFT = 2
REQ_DEEPSLEEP = 3
REQ_POWER_CUT = 4  # the flash stopped writing: the host ends the process
REQ_CTRL_C = 5  # a Ctrl-C's SIGINT reached the Timer thread: send it again

NOT_DRIVEN = 2
