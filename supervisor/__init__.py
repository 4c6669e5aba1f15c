"""rung.supervisor: the desktop Modbus master (terminal monitor and web HMI)."""
