"""Safe URL fetching against a real local HTTP server (loopback, explicitly allowed).

Private addresses such as 10.0.0.1 are only ever checked, never contacted: the refusal must come
before any connection, which the instant InputRefused (not a connect time-out) shows.
"""

from __future__ import annotations

import ipaddress
import time

import pytest

from autorig.worker.download import FetchLimits, address_problem, check_url, fetch
from autorig.worker.errors import InputRefused, InputUnavailable

GLB = b"glTF\x02\x00\x00\x00" + b"\x00" * 1000


def limits(server, **kw) -> FetchLimits:
    values = dict(max_bytes=1_000_000, timeout_s=10.0, max_redirects=3, allowed_hosts=(server.host,))
    values.update(kw)
    return FetchLimits(**values)


@pytest.mark.parametrize(
    "address, problem",
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not a public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ],
)
def test_non_public_addresses_have_a_named_problem(address, problem):
    assert problem in address_problem(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://10.0.0.1/model.glb", "10.0.0.1 is a private address"),
        ("http://127.0.0.1:9/model.glb", "loopback"),
        ("http://localhost:9/model.glb", "localhost resolves to"),
        ("http://[::ffff:10.0.0.1]/m.glb", "private"),
        ("http://2130706433/m.glb", "resolves to 127.0.0.1"),  # 127.0.0.1 written as one number
        ("ftp://example.com/m.glb", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.com/m.glb", "user name or password"),
    ],
)
def test_check_url_refuses_before_connecting(url, words):
    t0 = time.monotonic()
    with pytest.raises(InputRefused) as err:
        check_url(url, allowed_hosts=("127.0.0.1:8000",))
    assert words in str(err.value)
    assert time.monotonic() - t0 < 1.0


def test_fetch_of_a_private_address_is_refused_without_traffic(tmp_path):
    with pytest.raises(InputRefused, match="10.0.0.1 is a private address"):
        fetch("http://10.0.0.1/model.glb", tmp_path, FetchLimits(1000, 0.5, 0))
    assert list(tmp_path.iterdir()) == []


def test_allowed_hosts_match_host_and_port(input_server):
    port = input_server.port
    assert check_url(f"http://127.0.0.1:{port}/x", (f"127.0.0.1:{port}",)).allowed
    assert check_url(f"http://127.0.0.1:{port}/x", ("127.0.0.1",)).allowed  # host alone: any port
    with pytest.raises(InputRefused):
        check_url(f"http://127.0.0.1:{port}/x", (f"127.0.0.1:{port + 1}",))


def test_fetch_streams_the_file_to_disk(tmp_path, input_server):
    (input_server.root / "Hero Model.glb").write_bytes(GLB)
    got = fetch(f"{input_server.url}/files/Hero%20Model.glb", tmp_path / "in", limits(input_server))
    assert got.path.name == "Hero_Model.glb"
    assert got.path.read_bytes() == GLB
    assert got.size == len(GLB)
    assert [p.name for p in (tmp_path / "in").iterdir()] == ["Hero_Model.glb"]  # no partial file left


def test_fetch_sniffs_the_type_when_the_url_has_no_extension(tmp_path, input_server):
    (input_server.root / "m.glb").write_bytes(GLB)
    got = fetch(f"{input_server.url}/nameless?file=m.glb", tmp_path, limits(input_server))
    assert got.path.name == "nameless.glb"


def test_fetch_refuses_an_unknown_type(tmp_path, input_server):
    (input_server.root / "notes.txt").write_bytes(b"hello")
    with pytest.raises(InputUnavailable, match="cannot tell the input's file type"):
        fetch(f"{input_server.url}/files/notes.txt", tmp_path / "in", limits(input_server))
    assert list((tmp_path / "in").iterdir()) == []


def test_fetch_enforces_the_size_limit(tmp_path, input_server):
    (input_server.root / "big.glb").write_bytes(GLB)
    with pytest.raises(InputUnavailable, match="larger than the limit"):
        fetch(f"{input_server.url}/files/big.glb", tmp_path / "in", limits(input_server, max_bytes=100))
    assert list((tmp_path / "in").iterdir()) == []


def test_fetch_enforces_the_time_limit(tmp_path, input_server):
    (input_server.root / "slow.glb").write_bytes(GLB)
    t0 = time.monotonic()
    with pytest.raises(InputUnavailable, match="longer than 1 s|did not answer within 1 s"):
        fetch(f"{input_server.url}/drip/slow.glb", tmp_path, limits(input_server, timeout_s=1.0))
    assert time.monotonic() - t0 < 3.0
    with pytest.raises(InputUnavailable, match="did not answer within 1 s|longer than 1 s"):
        fetch(f"{input_server.url}/slow/5/slow.glb", tmp_path, limits(input_server, timeout_s=1.0))


def test_http_errors_are_reported(tmp_path, input_server):
    with pytest.raises(InputUnavailable, match="answered HTTP 404"):
        fetch(f"{input_server.url}/status/404", tmp_path, limits(input_server))


def test_redirects_are_followed_and_each_hop_checked(tmp_path, input_server):
    (input_server.root / "m.glb").write_bytes(GLB)
    target = f"{input_server.url}/files/m.glb"
    got = fetch(f"{input_server.url}/redirect?to={target}", tmp_path, limits(input_server))
    assert got.path.read_bytes() == GLB
    # A redirect from an allowed host to a private one is refused at the second hop.
    with pytest.raises(InputRefused, match="10.0.0.1 is a private address"):
        fetch(f"{input_server.url}/redirect?to=http://10.0.0.1/m.glb", tmp_path, limits(input_server))
    # ... and so is one to a loopback port that is not allowed.
    with pytest.raises(InputRefused, match="loopback"):
        fetch(f"{input_server.url}/redirect?to=http://127.0.0.1:9/m.glb", tmp_path, limits(input_server))


def test_redirect_loops_stop(tmp_path, input_server):
    loop = f"{input_server.url}/redirect?to={input_server.url}/redirect%3Fto%3D{input_server.url}/status/404"
    with pytest.raises(InputUnavailable, match="more than 1 redirects"):
        fetch(loop, tmp_path, limits(input_server, max_redirects=1))


@pytest.mark.parametrize(
    "disposition, url, expected",
    [
        ('attachment; filename="../../etc/evil.glb"', "http://h/x", "evil.glb"),
        ("attachment; filename*=UTF-8''h%C3%A9ro%20one.FBX", "http://h/x", "h_ro_one.fbx"),
        ("", "http://h/a/..%2F..%2Fm.obj", "m.obj"),
        ("", "http://h/dl/model.glb?sig=abc", "model.glb"),
    ],
)
def test_the_local_file_name_is_safe(disposition, url, expected):
    import httpx

    from autorig.worker.download import _filename, _with_extension

    response = httpx.Response(200, headers={"content-disposition": disposition} if disposition else {})
    assert _with_extension(_filename(response, httpx.URL(url)), b"") == expected


def test_the_token_goes_only_to_allowed_hosts(input_server):
    from autorig.protocol import TOKEN_HEADER
    from autorig.worker.download import request_headers

    with_token = limits(input_server, token="secret-token")
    allowed = check_url(f"{input_server.url}/files/m.glb", with_token.allowed_hosts)
    assert request_headers(allowed, with_token)[TOKEN_HEADER] == "secret-token"
    public = check_url("http://93.184.215.14/m.glb", ())  # checked, never contacted
    assert not public.allowed and TOKEN_HEADER not in request_headers(public, with_token)
    assert TOKEN_HEADER not in request_headers(allowed, limits(input_server))
    assert "secret-token" not in repr(with_token)
