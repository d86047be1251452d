"""Windows freed by Python's cycle collector must be freed on the UI thread: collected from a
worker's thread, a window's running timer (a text field's blinking cursor) cannot be stopped
and the application crashes. The desktop app collects on the UI thread only."""

import subprocess
import sys
import textwrap

SCENARIO = textwrap.dedent("""
    import sys, time
    from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QVBoxLayout
    from hallclient.ui.background import collect_garbage_on_the_ui_thread, run_in_background

    app = QApplication([])
    collect_garbage_on_the_ui_thread(app)

    class Window(QDialog):
        def __init__(self):
            super().__init__()
            self.edit = QLineEdit(self)
            QVBoxLayout(self).addWidget(self.edit)
            self.me = self  # a cycle: only the cycle collector frees it
            self.show()
            self.edit.setFocus()  # the cursor blinks: a running timer

    def churn():  # a worker that allocates, as drawing a receipt does
        return len([[[i]] for i in range(2_000_000)])

    done = []
    for round_ in range(ROUNDS):
        Window()  # closed by nobody, dropped at once: garbage in a cycle
        app.processEvents()
        run_in_background(app, churn, on_done=done.append, on_error=print)
        deadline = time.time() + 20
        while len(done) <= round_ and time.time() < deadline:
            app.processEvents()
            time.sleep(0.005)
    print("finished", len(done))
""")


def test_a_window_in_a_reference_cycle_is_freed_on_the_ui_thread(tmp_path):
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO.replace("ROUNDS", "3"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=180, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "finished 3"
    assert "QBasicTimer" not in run.stderr


def test_the_app_started_twice_in_one_process_collects_with_one_timer(qapp):
    from PySide6.QtCore import QTimer

    from hallclient.ui.background import GC_TIMER_NAME, collect_garbage_on_the_ui_thread

    first = collect_garbage_on_the_ui_thread(qapp)
    second = collect_garbage_on_the_ui_thread(qapp)  # a second login, or the demo after it
    try:
        assert second is first
        assert len(qapp.findChildren(QTimer, GC_TIMER_NAME)) == 1
    finally:
        first.stop()
        first.deleteLater()
