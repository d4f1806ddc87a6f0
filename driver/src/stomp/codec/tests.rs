use super::*;

fn decode_all(bytes: &[u8]) -> Vec<Item> {
    let mut d = Decoder::new();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(i) = d.next_item().unwrap() {
        out.push(i);
    }
    out
}

#[test]
fn round_trip_with_escapes_and_binary_body() {
    let f = Frame::new("SEND")
        .header("destination", "/queue/a:b")
        .header("x", "line1\nline2\\")
        .body(vec![1u8, 0, 2]);
    let items = decode_all(&f.to_bytes());
    let expected = f.header("content-length", "3");
    assert_eq!(items, vec![Item::Frame(expected)]);
}

#[test]
fn frames_split_across_reads_and_heartbeats() {
    let a = Frame::new("MESSAGE")
        .header("k", "v")
        .body("hello")
        .to_bytes();
    let mut stream = b"\n\r\n".to_vec();
    stream.extend_from_slice(&a);
    stream.extend_from_slice(b"\nCONNECTED\nversion:1.2\n\n\0");
    let mut d = Decoder::new();
    let mut got = Vec::new();
    for b in &stream {
        d.push(std::slice::from_ref(b));
        while let Some(i) = d.next_item().unwrap() {
            got.push(i);
        }
    }
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], Item::Heartbeat);
    assert_eq!(got[1], Item::Heartbeat);
    match &got[2] {
        Item::Frame(f) => assert_eq!(f.text(), "hello"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(got[3], Item::Heartbeat);
    match &got[4] {
        Item::Frame(f) => assert_eq!(f.get("version"), Some("1.2")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn body_without_content_length_ends_at_nul() {
    let items = decode_all(b"MESSAGE\r\nfoo:bar\r\n\r\nabc\0");
    match &items[0] {
        Item::Frame(f) => {
            assert_eq!(f.get("foo"), Some("bar"));
            assert_eq!(f.body, b"abc");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    for bad in [
        &b"message\n\n\0"[..],
        b"MESSAGE\nnocolon\n\n\0",
        b"MESSAGE\ncontent-length:zz\n\n\0",
        b"MESSAGE\ncontent-length:1\n\nab\0",
        b"MESSAGE\nk:\\x\n\n\0",
    ] {
        let mut d = Decoder::new();
        d.push(bad);
        assert!(d.next_item().is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn expires_is_an_absolute_time_in_milliseconds() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let at: u128 = expires_in(Duration::from_secs(15)).parse().unwrap();
    assert!(at >= now + 15_000 && at < now + 16_000, "{at} vs {now}");
}

/// Decodes `bytes` fed in chunks of `chunk` bytes.
fn decode_chunked(bytes: &[u8], chunk: usize) -> Vec<Item> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for part in bytes.chunks(chunk) {
        d.push(part);
        while let Some(i) = d.next_item().unwrap() {
            out.push(i);
        }
    }
    assert!(d.buf.len() <= MAX_FRAME_BYTES + chunk);
    out
}

#[test]
fn frames_split_at_every_byte_decode_the_same() {
    // CRLF header ends and bodies without content-length, one byte per read: the
    // decoder resumes its scans where the previous read left them.
    let mut stream = b"MESSAGE\r\ndestination:/queue/a\r\n\r\nfirst\0\n".to_vec();
    stream.extend_from_slice(b"MESSAGE\ndestination:/queue/b\n\nsecond\0");
    stream.extend_from_slice(&Frame::new("MESSAGE").body("third").to_bytes());
    for chunk in [1, 2, 3, 7, stream.len()] {
        let items = decode_chunked(&stream, chunk);
        let bodies: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Frame(f) => Some(f.text()),
                _ => None,
            })
            .collect();
        assert_eq!(bodies, ["first", "second", "third"], "chunk {chunk}");
        assert!(items.iter().any(|i| matches!(i, Item::Heartbeat)));
    }
}

#[test]
fn oversized_frames_are_skipped_and_the_stream_goes_on() {
    let big = vec![b'x'; MAX_FRAME_BYTES + 10];
    let with_length = Frame::new("MESSAGE")
        .header("destination", "/queue/q")
        .body(big.clone())
        .to_bytes();
    let mut without_length = b"MESSAGE\ndestination:/queue/r\n\n".to_vec();
    without_length.extend_from_slice(&big);
    without_length.push(0);
    let small = Frame::new("MESSAGE").body("ok").to_bytes();
    let mut stream = with_length.clone();
    stream.extend_from_slice(&small);
    stream.extend_from_slice(&without_length);
    stream.extend_from_slice(&small);
    for chunk in [stream.len(), 32 * 1024, 1_000_003] {
        let items = decode_chunked(&stream, chunk);
        assert_eq!(items.len(), 4, "chunk {chunk}: {:?}", items.len());
        assert_eq!(
            items[0],
            Item::Oversized {
                command: "MESSAGE".into(),
                destination: Some("/queue/q".into()),
                bytes: with_length.len(),
            }
        );
        assert!(matches!(&items[1], Item::Frame(f) if f.text() == "ok"));
        assert_eq!(
            items[2],
            Item::Oversized {
                command: "MESSAGE".into(),
                destination: Some("/queue/r".into()),
                bytes: without_length.len(),
            }
        );
        assert!(matches!(&items[3], Item::Frame(f) if f.text() == "ok"));
    }
}

#[test]
fn a_huge_content_length_is_skipped_not_buffered() {
    let mut d = Decoder::new();
    d.push(b"MESSAGE\ncontent-length:99999999999\n\n");
    assert_eq!(d.next_item().unwrap(), None);
    d.push(&vec![0u8; 1024 * 1024]);
    assert_eq!(d.next_item().unwrap(), None);
    assert!(d.buf.is_empty(), "skipped bytes are not kept");
}

#[test]
fn first_repeated_header_wins() {
    let items = decode_all(b"MESSAGE\nk:1\nk:2\n\n\0");
    match &items[0] {
        Item::Frame(f) => assert_eq!(f.get("k"), Some("1")),
        other => panic!("unexpected {other:?}"),
    }
}
