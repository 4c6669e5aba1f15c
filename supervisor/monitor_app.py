"""`rung monitor`: a Textual terminal UI over a Session (status line, tag table, controls)."""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Input, Static

from rung.errors import CommandError

from .program import value_text
from .session import FAULT_TEXT

COLUMNS = ("name", "type", "address", "kind", "value", "forced")


def _kind(tag):
    return f"{tag.description} member" if tag.kind == "member" else tag.kind


def status_line(session, snap):
    """The one-line summary of a snapshot that the monitor shows on top."""
    link = session.link
    if not snap.connected:
        return f"OFFLINE  {session.target}  {snap.error or 'connecting'}  (retrying)"
    st = snap.status
    if snap.matched is None:
        crc = f"CRC {st.get('crc', 0):08x} (no program loaded)"
    elif snap.matched:
        crc = "CRC match"
    else:
        crc = f"CRC MISMATCH (device {st.get('crc', 0):08x}, file {session.program.crc:08x})"
    fault = ""
    if st.get("state") == 2:
        fault = f"  fault {st['fault']} {FAULT_TEXT.get(st['fault'], '')}".rstrip()
    quality = "-" if link.quality is None else f"{link.quality}%"
    return (
        f"{snap.state}{fault}  scan {st.get('last_us', 0)} us (max {st.get('max_us', 0)}, "
        f"overruns {st.get('overruns', 0)})  {crc}  forced {st.get('forced', 0)}  "
        f"link {quality} {link.rtt_ms:.1f} ms  refresh {snap.refresh_ms:.0f} ms  "
        f"{session.target}"
    )


class MonitorApp(App):
    """The live monitor of one device."""

    TITLE = "rung monitor"
    AUTO_FOCUS = "#tags"
    CSS = """
    #status { height: 1; background: $primary-background; padding: 0 1; }
    #banner { height: auto; color: $error; padding: 0 1; }
    #message { height: 1; padding: 0 1; color: $text-muted; }
    #tags { height: 1fr; }
    #entry { display: none; }
    #entry.shown { display: block; }
    """
    BINDINGS = [
        Binding("w", "write", "Write"),
        Binding("f", "force", "Force"),
        Binding("u", "unforce", "Unforce"),
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("x", "reset", "Fault reset"),
        Binding("a", "release_all", "Release forces"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, session):
        super().__init__()
        self.session = session
        self.rows = []  # (key, label, vtype or None) in table order
        self.pending = None  # ("write"|"force", tag name) while the entry is open
        self.snap = None
        session.listeners.append(self._on_snapshot)

    def compose(self) -> ComposeResult:
        yield Static("connecting…", id="status")
        yield Static("", id="banner")
        yield Input(placeholder="filter by name, address, type or kind (/)", id="filter")
        yield DataTable(id="tags", cursor_type="row", zebra_stripes=True)
        yield Input(id="entry")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self):
        table = self.query_one("#tags", DataTable)
        for c in COLUMNS:
            table.add_column(c, key=c)
        self._rebuild()
        table.focus()
        self.run_worker(self.session.run(), exclusive=True, group="session")

    async def on_unmount(self):
        if self._on_snapshot in self.session.listeners:
            self.session.listeners.remove(self._on_snapshot)
        self.session.stop()

    # ---- table ------------------------------------------------------------------------

    def _all_rows(self):
        prog = self.session.program
        snap = self.snap
        if prog is not None and (snap is None or snap.matched is not False):
            return [(t.key, (t.name, t.type_name, t.address or "-", t.kind), t) for t in prog.tags]
        raw = snap.raw if snap is not None else []
        return [
            (f"r{i}", (f"v{i}", "raw32", f"IR {10000 + 2 * i}", "?"), None)
            for i in range(len(raw))
        ]

    def _rebuild(self):
        query = self.query_one("#filter", Input).value.strip().lower()
        table = self.query_one("#tags", DataTable)
        table.clear()
        self.rows = []
        for key, cells, tag in self._all_rows():
            if query and query not in " ".join(cells).lower():
                continue
            table.add_row(*cells, "", "", key=key)
            self.rows.append((key, tag))
        if self.snap is not None:
            self._fill(self.snap)

    def on_input_changed(self, event):
        if event.input.id == "filter":
            self._rebuild()

    def _fill(self, snap):
        table = self.query_one("#tags", DataTable)
        forced = snap.forced
        for key, tag in self.rows:
            if tag is None:
                i = int(key[1:])
                value = str(snap.raw[i]) if i < len(snap.raw) else "?"
                mark = "F" if i in forced else ""
            else:
                value = value_text(tag.vtype, snap.values.get(tag.key)) if snap.matched else "?"
                mark = "FORCED" if tag.var is not None and tag.var in forced else ""
            table.update_cell(key, "value", value)
            table.update_cell(key, "forced", mark)

    def _on_snapshot(self, snap):
        try:
            self._show(snap)
        except NoMatches:
            pass  # the screen is closing while a refresh ends: nothing left to update

    def _show(self, snap):
        mode_changed = (
            self.snap is None
            or (self.snap.matched is False) != (snap.matched is False)
            or (self.session.program is None and len(self.snap.raw) != len(snap.raw))
        )
        self.snap = snap
        self.query_one("#status", Static).update(status_line(self.session, snap))
        banner = ""
        if not snap.connected:
            banner = f"No connection to {self.session.target}: retrying with backoff."
        elif snap.matched is False:
            banner = (
                "The device runs another program (CRC mismatch): names and power flow "
                "are not shown; values by variable number."
            )
        self.query_one("#banner", Static).update(banner)
        if mode_changed:
            self._rebuild()
        else:
            self._fill(snap)

    # ---- actions ------------------------------------------------------------------------

    def _selected(self):
        table = self.query_one("#tags", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row][1]

    def say(self, text):
        self.query_one("#message", Static).update(text)

    def _ask(self, what):
        tag = self._selected()
        if tag is None:
            self.say("select a variable first (names are shown when the program matches)")
            return
        self.pending = (what, tag.name)
        entry = self.query_one("#entry", Input)
        entry.value = ""
        entry.placeholder = f"{what} {tag.name} ({tag.type_name}) to: Enter to send, Esc cancels"
        entry.add_class("shown")
        entry.focus()

    def action_write(self):
        self._ask("write")

    def action_force(self):
        self._ask("force")

    def action_filter(self):
        self.query_one("#filter", Input).focus()

    def action_cancel(self):
        entry = self.query_one("#entry", Input)
        entry.remove_class("shown")
        self.pending = None
        self.query_one("#tags", DataTable).focus()

    async def on_input_submitted(self, event):
        if event.input.id == "filter":
            self.query_one("#tags", DataTable).focus()
            return
        if self.pending is None:
            return
        what, name = self.pending
        value = event.value
        self.action_cancel()
        fn = self.session.write if what == "write" else self.session.force
        await self._try(f"{what} {name} = {value}", fn(name, value))

    async def _try(self, done, coro):
        try:
            await coro
        except CommandError as exc:
            self.say(f"[b]refused:[/b] {exc}")
            return
        self.say(done + ": ok")

    async def action_unforce(self):
        tag = self._selected()
        if tag is None:
            self.say("select a variable first")
            return
        await self._try(f"unforce {tag.name}", self.session.unforce(tag.name))

    async def action_run(self):
        await self._try("run", self.session.command("run"))

    async def action_stop(self):
        await self._try("stop", self.session.command("stop"))

    async def action_reset(self):
        await self._try("fault reset", self.session.command("reset"))

    async def action_release_all(self):
        await self._try("release all forces", self.session.command("release-all"))
