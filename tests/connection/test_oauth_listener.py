"""The OAuth redirect listener and the browser opener."""

from __future__ import annotations

import socket
import stat
import sys
import threading
from pathlib import Path

import httpx
import pytest

from joyctl.errors import UsageError
from joyctl.services.connection.oauth_listener import CallbackListener, open_in_browser


def test_the_listener_binds_the_ipv4_loopback_only() -> None:
    with CallbackListener(0) as listener:
        host, port = listener.address
        assert host == "127.0.0.1"
        assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"
        # Another loopback address reaches the same machine, but not a socket bound to
        # 127.0.0.1 alone; a listener on all interfaces would accept it.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", port), timeout=1).close()
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass


def test_the_first_callback_is_kept_and_other_paths_are_not_found() -> None:
    with CallbackListener(0) as listener:
        base = listener.redirect_uri.removesuffix("/callback")
        assert httpx.get(f"{base}/favicon.ico").status_code == 404
        first = httpx.get(f"{base}/callback?code=one&state=s1")
        assert first.status_code == 200
        assert "close this tab" in first.text
        httpx.get(f"{base}/callback?code=two&state=s2")
        assert listener.wait(1) == f"{base}/callback?code=one&state=s1"


def test_waiting_ends_after_the_timeout() -> None:
    with CallbackListener(0) as listener:
        assert listener.wait(0.05) is None


def test_a_busy_port_is_a_usage_error_naming_the_ways_out() -> None:
    with CallbackListener(0) as first:
        port = first.address[1]
        with pytest.raises(UsageError) as caught, CallbackListener(port):
            pass
    assert f"port {port}" in caught.value.message
    assert "--paste" in (caught.value.hint or "")
    assert "redirect_port" in (caught.value.hint or "")


def _script(folder: Path, body: str) -> Path:
    path = folder / "browser.py"
    path.write_text(f"#!{sys.executable}\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_browser_from_the_environment_gets_the_url(tmp_path: Path) -> None:
    seen = tmp_path / "seen.txt"
    script = _script(tmp_path, f"import sys; open({str(seen)!r}, 'w').write(sys.argv[1])")
    assert open_in_browser("http://127.0.0.1:1/x?a=1", {"BROWSER": str(script)})
    assert seen.read_text() == "http://127.0.0.1:1/x?a=1"


def test_browser_command_line_with_placeholder(tmp_path: Path) -> None:
    seen = tmp_path / "seen.txt"
    script = _script(tmp_path, f"import sys; open({str(seen)!r}, 'w').write(sys.argv[2])")
    assert open_in_browser("http://u", {"BROWSER": f"{script} --url %s"})
    assert seen.read_text() == "http://u"


def test_a_failing_browser_reports_false(tmp_path: Path) -> None:
    script = _script(tmp_path, "raise SystemExit(3)")
    assert open_in_browser("http://u", {"BROWSER": str(script)}) is False
    assert open_in_browser("http://u", {"BROWSER": str(tmp_path / "missing")}) is False


def test_the_listener_serves_while_the_caller_waits_for_a_browser() -> None:
    with CallbackListener(0) as listener:
        url = listener.redirect_uri + "?code=c&state=s"
        visitor = threading.Thread(target=httpx.get, args=(url,))
        visitor.start()
        assert listener.wait(5) == url
        visitor.join()
