"""The propagation benchmark's stream reading (bench/propagation.py): pages read from the bytes
a stream brought, after the run, each with the moment the piece that completed it arrived."""

import json

import pytest

from bench.propagation import Waiting, stream_events

HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def page(cursor: int, *numbers: str) -> bytes:
    body = {"accounts": [{"number": n} for n in numbers], "next_cursor": cursor}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def test_each_page_arrives_with_the_piece_that_completed_it() -> None:
    first, second = chunk(page(7, "1000000001")), chunk(page(8, "1000000002", "1000000003"))
    comment = chunk(b": still here\n\n")
    received = HEAD + first + comment + second
    cut = len(HEAD) + len(first) + len(comment) + 10  # the second page cut mid-way
    pieces = [(1.0, received[:len(HEAD) + 5]), (2.0, received[len(HEAD) + 5:cut]),
              (3.0, received[cut:])]

    events = stream_events(pieces)

    assert [(arrived, p["next_cursor"]) for arrived, p in events] == [(2.0, 7), (3.0, 8)]
    seen = Waiting()
    assert seen.take(events) == 8
    assert seen.arrivals == {"1000000001": [2.0], "1000000002": [3.0], "1000000003": [3.0]}
    assert seen.pages == [2.0, 3.0]


def test_a_page_not_yet_whole_is_not_read() -> None:
    whole = chunk(page(7, "1000000001"))
    assert stream_events([(1.0, HEAD + whole[:-8])]) == []
    assert stream_events([(1.0, HEAD[:20])]) == []


def test_an_answer_without_chunks_is_read_as_it_is() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"
    events = stream_events([(4.0, head + page(9, "1000000004"))])
    assert [(arrived, p["next_cursor"]) for arrived, p in events] == [(4.0, 9)]


def test_a_refused_stream_is_an_error_not_an_empty_run() -> None:
    refused = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}"
    with pytest.raises(ValueError, match="401"):
        stream_events([(1.0, refused)])
