"""The dashboard server on an open network (docs/security.md): its names, its token,
its kernels, what its pages can choose and what its kernels say.

The slow tests share one real server on 127.0.0.1 (a token, at most 2 pages' kernels, a
preheated pool of 1, kernels culled after 6 s idle, one reverse-proxy name), counting its
kernels as processes; it is stopped at the end of the module whatever happens.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from srelib.serve.hosts import AllowedHosts
from srelib.serve.server import voila_argv
from tests.conftest import make_workbench, run_cli

T = TypeVar("T")

pytestmark = pytest.mark.xdist_group("dashboard-security")  # one worker, so one server for the module

CAP, POOL, CULL_IDLE = 2, 1, 6
PROXY_NAME = "dash.example"
REPO = Path(__file__).resolve().parents[1]


# Fast: the policy alone, and the command line's refusal (no server starts).


def test_a_server_answers_its_own_names_and_no_other_site():
    local = AllowedHosts.for_server("127.0.0.1", [PROXY_NAME])
    for host in ("127.0.0.1:8866", "localhost:8866", "[::1]:8866", "LOCALHOST", f"{PROXY_NAME}", "127.0.0.2:8866"):
        assert local.allows_request(host, None), host
    for host in ("evil.example:8866", "localhost.evil.example", "192.168.1.20:8866", "[::1", ""):
        assert not local.allows_request(host, None), host
    assert local.allows_request("127.0.0.1:8866", "http://127.0.0.1:8866")
    for origin in ("http://evil.example:8866", "http://127.0.0.1:9999", "null"):  # another site, another port
        assert not local.allows_request("127.0.0.1:8866", origin), origin
    every = AllowedHosts.for_server("0.0.0.0")  # any address typed in the address bar, never a DNS name
    assert every.allows_request("192.168.1.20:8866", None) and not every.allows_request("evil.example:8866", None)
    assert AllowedHosts.for_server("10.0.0.5").allows_request("10.0.0.5:8866", None)
    assert not AllowedHosts.for_server("10.0.0.5").allows_request("10.0.0.6:8866", None)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "dashboards.internal"])
def test_serving_the_network_without_a_token_is_refused_with_the_command_to_use(tmp_path: Path, host: str):
    make_workbench(tmp_path, {"checkout": "payments"})
    result = run_cli(tmp_path, "dashboard", "team", "--host", host)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"srelib dashboard team --host {host} --token" in message and "--no-token" in message
    both = run_cli(tmp_path, "dashboard", "--host", host, "--token", "--no-token")
    assert both.returncode == 2 and "contradict" in both.stderr


def test_a_port_in_use_is_refused_not_exchanged_for_another(tmp_path: Path):
    workbench = make_workbench(tmp_path, {"checkout": "payments"})
    workbench.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    workbench.warehouse_path.touch()  # refused before the warehouse is opened
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "dashboard", "--port", str(port))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"port {port} on 127.0.0.1 is not free" in message and "choose another with --port" in message
    assert "serving" not in result.stdout  # no address printed that nothing would answer
    # An address this machine does not have (TEST-NET-1) is refused as such.
    elsewhere = run_cli(tmp_path, "dashboard", "--host", "192.0.2.1", "--token", "--port", str(port))
    assert elsewhere.returncode == 2, elsewhere.stderr
    assert f"cannot listen on 192.0.2.1 port {port}" in " ".join(elsewhere.stderr.split())
    # Nor does voila move on by itself when the port is taken between this check and its start.
    assert "--Voila.port_retries=0" in voila_argv(Path("executive.ipynb"), port, "127.0.0.1", None, 1)


# Slow: the real server.


class Guarded:
    """The module's server, its token, and what it runs."""

    def __init__(self, server, token: str):
        self.server, self.token = server, token
        self.port, self.url = server.port, server.url

    def kernels(self) -> dict[str, int]:
        """The server's kernel processes: kernel id → pid (from each one's connection file)."""
        found = {}
        for pid in self.server.helpers():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "ipykernel" in command and (match := re.search(r"kernel-([0-9a-f-]{36})\.json", command)):
                found[match.group(1)] = pid
        return found

    def log_in(self, query: str = "") -> tuple[urllib.request.OpenerDirector, str]:
        """A browser (its cookies) logged in by ``?token=`` (plus ``query``), and the page it was
        redirected to: when the server is busy, asked again until a kernel is free."""
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 60
        while (answer := fetch(self.url + f"?token={self.token}{query}", opener=browser))[0] == 503:
            assert time.monotonic() < deadline
            time.sleep(1)
        assert answer[0] == 200, answer[2][:300]
        return browser, answer[2]

    def page(self, query: str = "", wait: float = 60) -> str:
        """The dashboard page, logged in by the token's header (no ?token= to redirect), taking a
        kernel: when the server is busy, asked again until one is free."""
        deadline = time.monotonic() + wait
        while True:
            status, _, body = fetch(self.url + query, {"Authorization": f"token {self.token}"})
            if status != 503 or time.monotonic() > deadline:
                assert status == 200, (status, body[:300])
                return body
            time.sleep(1)

    def wait_for_quiet(self) -> str:
        """Until only the preheated kernel is left, the others culled: its id. One kernel for 3 s
        is the pool's (voila refills the pool a second after a page takes its kernel)."""
        deadline, since = time.monotonic() + 90, time.monotonic()
        while len(kernels := self.kernels()) != POOL or time.monotonic() < since + 3:
            assert time.monotonic() < deadline, kernels
            if len(kernels) != POOL:
                since = time.monotonic()
            time.sleep(0.25)
        return next(iter(kernels))


def fetch(url: str, headers: dict[str, str] | None = None, opener=None) -> tuple[int, dict[str, str], str]:
    """Status, headers and text of GET ``url``, redirects not followed (unless ``opener`` does)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener(NoRedirect)).open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode(errors="replace")


def kernel_of(page: str) -> str:
    return re.search(r'kernelId": "([0-9a-f-]{36})"', page).group(1)


async def websocket(url: str, headers: dict[str, str], send: list[dict] = (), listen: float = 0, v1: bool = False):
    """Open ``url`` (a status code if refused), send ``send`` as shell messages, and return the
    messages received for ``listen`` seconds (as text: JSON, or the v1 protocol's bytes)."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    try:
        connection = await websocket_connect(
            HTTPRequest(url, headers=headers), subprotocols=["v1.kernel.websocket.jupyter.org"] if v1 else None
        )
    except HTTPClientError as exc:
        return exc.code
    for message in send:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": message["msg_type"], "session": "s", "version": "5.3"}
        header |= {"username": "", "date": ""}
        if v1:
            from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

            parts = [header, {}, {}, message["content"]]
            connection.write_message(serialize_msg_to_ws_v1([json.dumps(p).encode() for p in parts], "shell"), True)
        else:
            body = {"header": header, "parent_header": {}, "metadata": {}, "content": message["content"]}
            connection.write_message(json.dumps(body | {"channel": "shell", "buffers": []}))
    received: list[str] = []
    deadline = asyncio.get_running_loop().time() + listen
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            message = await asyncio.wait_for(connection.read_message(), left)
        except TimeoutError:
            break
        if message is None:
            break
        received.append(message.decode(errors="replace") if isinstance(message, bytes) else message)
    connection.close()
    return received


@pytest.fixture(scope="module")
def guarded(demo_workbench, tmp_path_factory) -> Iterator[Guarded]:
    import shutil

    from tests.test_dashboard import Server

    root = tmp_path_factory.mktemp("dashboard-security") / "workbench"
    shutil.copytree(demo_workbench.root / "params", root / "params")
    (root / "warehouse").mkdir()
    shutil.copy(demo_workbench.warehouse_path, root / "warehouse" / demo_workbench.warehouse_path.name)
    options = ["--token", "--max-kernels", str(CAP), "--pool-size", str(POOL), "--cull-idle", str(CULL_IDLE)]
    server = Server(root, *options, "--allow-host", PROXY_NAME, "--no-warm")  # views: not under test
    try:
        token = re.search(r"\?token=([\w-]+)", server.log.read_text()).group(1)
        yield Guarded(server, token)
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_request_for_another_host_name_or_from_another_origin_is_refused(guarded: Guarded):
    """DNS rebinding: evil.example re-pointed at 127.0.0.1 reaches the server as Host: evil.example."""
    port, auth = guarded.port, {"Authorization": f"token {guarded.token}"}
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", PROXY_NAME):
        assert fetch(guarded.url + "login", {"Host": host})[0] == 200, host
    status, _, body = fetch(guarded.url, {"Host": f"evil.example:{port}"} | auth)  # even with the token
    assert status == 403 and "kernelId" not in body
    assert fetch(guarded.url + "login", {"Host": f"evil.example:{port}"})[0] == 403
    assert fetch(guarded.url + "login", {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"})[0] == 403

    channels = f"ws://127.0.0.1:{port}/api/kernels/{uuid.uuid4()}/channels"
    ours = {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"} | auth
    assert talk(websocket(channels, ours)) == 404  # reaches the handler: no such kernel
    foreign_host = ours | {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    assert talk(websocket(channels, foreign_host)) == 403
    assert talk(websocket(channels, ours | {"Origin": "http://evil.example"})) == 403


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_token_logs_the_browser_in_leaves_the_url_and_no_page_hands_it_out(guarded: Guarded):
    """voila's /voila/query/<kernel> gave a page's query string, token included, to anyone."""
    _, page = guarded.log_in("&view=1")
    seen = talk(websocket(f"ws://127.0.0.1:{guarded.port}/voila/query/{kernel_of(page)}", {}, listen=3))
    assert guarded.token not in json.dumps(seen)
    status, headers, _ = fetch(guarded.url + f"?token={guarded.token}&view=1")
    assert status == 302 and headers["Location"] == "/?view=1" and "Set-Cookie" in headers
    assert fetch(guarded.url)[0] in (302, 403)  # without the token or its cookie: the login page


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_failed_comm_open_sends_no_traceback_or_server_path_to_the_page(guarded: Guarded):
    page = guarded.page()
    channels = f"ws://127.0.0.1:{guarded.port}/api/kernels/{kernel_of(page)}/channels?session_id=s"
    ours = {"Origin": f"http://127.0.0.1:{guarded.port}", "Authorization": f"token {guarded.token}"}
    assert talk(websocket(channels, ours | {"Origin": "http://evil.example"})) == 403  # its widget state
    bad = [
        {"msg_type": "comm_open", "content": {"comm_id": uuid.uuid4().hex, "target_name": target, "data": {}}}
        for target in ("jupyter.widget", "no.such.target")
    ]
    for v1 in (False, True):  # the legacy JSON protocol, and the browser's binary one
        seen = "\n".join(talk(websocket(channels, ours, send=bad, listen=4, v1=v1)))
        assert seen.count("comm_close") >= 2  # the kernel refused both
        for leak in ("Traceback", "site-packages", 'File "', str(REPO), "No such comm target"):
            assert leak not in seen, (v1, leak)


OVERRIDES = "?template=lab&theme=dark&voila-template=lab&voila-theme=dark"


def talk(conversation: Coroutine[Any, Any, T]) -> T:
    """Run a websocket conversation in a thread of its own: Playwright's sync API keeps an event
    loop running in this thread once a browser test has run in this worker."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, conversation).result()


def assert_the_workbench_template_and_theme(page: str) -> None:
    """?template=lab loaded jQuery, mermaid and Font Awesome from public CDNs."""
    assets = re.findall(r'<(?:link|script)[^>]*(?:href|src)="([^"]*)"', page)
    assert assets and all(a.startswith(("/", "data:")) for a in assets), assets
    assert any(a.startswith("/voila/templates/srelib/static/theme-light.css") for a in assets)
    assert 'data-jp-theme-name="JupyterLab Light"' in page and "cdn.jsdelivr.net" not in page


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_pages_over_the_cap_are_told_to_retry_and_no_page_chooses_its_template_or_theme(guarded: Guarded):
    """Six curls took a server from 4 to 10 kernels (3.2 GB) that were never reclaimed; asking
    for another template or theme started a kernel too, and could load assets from CDNs."""
    preheated = guarded.wait_for_quiet()
    answers: list[tuple[int, dict[str, str], str]] = []
    auth = {"Authorization": f"token {guarded.token}"}
    visitors = [
        threading.Thread(target=lambda: answers.append(fetch(guarded.url + OVERRIDES, auth))) for _ in range(CAP + 2)
    ]
    for visitor in visitors:
        visitor.start()
    most, deadline, done = 0, time.monotonic() + 120, None
    while done is None or time.monotonic() < done + 3:  # and while voila refills its pool
        most = max(most, len(guarded.kernels()))
        if done is None and not any(v.is_alive() for v in visitors):
            done = time.monotonic()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert most <= CAP + POOL
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * CAP + [503] * 2, statuses
    pages = {kernel_of(body): body for status, _, body in answers if status == 200}
    assert preheated in pages  # asking for a template did not pass the preheated kernel by
    for page in pages.values():  # the preheated page, and one rendered for the request
        assert_the_workbench_template_and_theme(page)
    for status, headers, body in answers:
        if status == 503:
            assert headers["Retry-After"] == "30" and "The dashboard is busy" in body
            assert not re.search(r'(?:src|href)="', body) and "kernelId" not in body  # self-contained
    deadline = time.monotonic() + CULL_IDLE + 30  # fetched by a script, never connected: culled
    while set(pages) & set(kernels := guarded.kernels()):
        assert time.monotonic() < deadline, kernels
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_preheated_kernel_is_kept_until_its_page_connects_and_culled_once_the_page_is_closed(
    guarded: Guarded,
):
    preheated = guarded.wait_for_quiet()
    time.sleep(CULL_IDLE + 2)  # longer idle than the culler allows: waiting in the pool, it stays
    assert preheated in guarded.kernels()
    page = guarded.page()
    assert kernel_of(page) == preheated  # the page took the preheated kernel
    time.sleep(1.5)  # the culler passes every second: at least once before the page connects
    channels = f"ws://127.0.0.1:{guarded.port}/api/kernels/{preheated}/channels?session_id=s"
    ours = {"Origin": f"http://127.0.0.1:{guarded.port}", "Authorization": f"token {guarded.token}"}
    info = [{"msg_type": "kernel_info_request", "content": {}}]
    seen = talk(websocket(channels, ours, send=info, listen=2))
    assert isinstance(seen, list) and "kernel_info_reply" in "".join(seen), seen  # the kernel was still there
    deadline = time.monotonic() + CULL_IDLE + 30  # the page is closed: its kernel goes
    while preheated in (kernels := guarded.kernels()):
        assert time.monotonic() < deadline, kernels
        time.sleep(0.5)
    assert len(kernels) == POOL  # the pool, refilled


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_page_that_closes_shuts_its_kernel_down_and_no_other_site_can(guarded: Guarded):
    """voila's page sends a beacon as it closes, without the _xsrf token (voila issue #1458): the
    kernel of a page a reader left is shut down at once, on the word of this server's own pages."""
    browser, page = guarded.log_in()
    kernel = kernel_of(page)
    shutdown = f"{guarded.url}voila/api/shutdown/{kernel}"

    def beacon(headers: dict[str, str], opener=browser) -> int:
        request = urllib.request.Request(shutdown, data=b"", headers=headers, method="POST")
        try:
            with opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert beacon({"Origin": "http://evil.example"}) == 403  # another site's page
    assert beacon({"Origin": f"http://127.0.0.1:{guarded.port + 1}"}) == 403  # another local server's
    assert beacon({}) == 403  # no Origin: the _xsrf token is required, as jupyter_server requires it
    assert beacon({"Origin": f"http://127.0.0.1:{guarded.port}"}, urllib.request.build_opener()) in (
        302,
        403,
    )  # no login
    assert kernel in guarded.kernels()
    assert beacon({"Origin": f"http://127.0.0.1:{guarded.port}"}) == 204  # the page itself, logged in
    deadline = time.monotonic() + 20
    while kernel in guarded.kernels():
        assert time.monotonic() < deadline
        time.sleep(0.25)
