//! Unit tests of the stdio protocol and the runner frames (`coldbench-protocol`
//! lives in the workloads workspace, so its tests run from here).

use coldbench_protocol::runner::{Frame, Kind, kv_payload, parse_kv};
use coldbench_protocol::*;
use std::io;

#[test]
fn request_round_trip() {
    let req = Request {
        params: vec![
            ("algo".into(), "sha256".into()),
            ("iterations".into(), "3".into()),
        ],
        parts: vec![
            Part {
                name: "input".into(),
                bytes: b"hello\nworld".to_vec(),
            },
            Part {
                name: "empty".into(),
                bytes: vec![],
            },
        ],
    };
    let bytes = req.to_bytes().unwrap();
    let mut r = io::Cursor::new(bytes);
    let back = Request::read_from(&mut r).unwrap().unwrap();
    assert_eq!(back, req);
    assert!(Request::read_from(&mut r).unwrap().is_none());
}

#[test]
fn truncated_part_is_an_error() {
    let mut r = io::Cursor::new(b"REQ - input:10\nabc".to_vec());
    assert!(matches!(
        Request::read_from(&mut r),
        Err(ProtocolError::Io(_))
    ));
}

#[test]
fn bad_header_is_malformed() {
    let mut r = io::Cursor::new(b"GET / HTTP/1.1\n".to_vec());
    assert!(matches!(
        Request::read_from(&mut r),
        Err(ProtocolError::Malformed(_))
    ));
}

#[test]
fn response_round_trip() {
    let ok = Response::ok(b"abc", vec![("valid".into(), "true".into())]);
    assert_eq!(Response::parse_line(&ok.to_line()).unwrap(), ok);
    let err = Response::Err {
        kind: "decode".into(),
        message: "not a JPEG\nat byte 0".into(),
    };
    match Response::parse_line(&err.to_line()).unwrap() {
        Response::Err { kind, message } => {
            assert_eq!(kind, "decode");
            assert_eq!(message, "not a JPEG at byte 0");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn crc_is_ieee() {
    // Check value of CRC-32/ISO-HDLC for "123456789".
    assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
}

#[test]
fn ready_line_round_trip() {
    assert_eq!(parse_ready_line(&ready_line("noop")).unwrap(), "noop");
    assert!(parse_ready_line("COLDBENCH-READY noop 999").is_err());
}

#[test]
fn frame_round_trip() {
    let f = Frame {
        kind: Kind::Stdout,
        instance: 42,
        payload: b"COLDBENCH-READY noop 1\n".to_vec(),
    };
    let mut buf = Vec::new();
    f.write_to(&mut buf).unwrap();
    let mut r = io::Cursor::new(buf);
    assert_eq!(Frame::read_from(&mut r).unwrap().unwrap(), f);
    assert!(Frame::read_from(&mut r).unwrap().is_none());
}

#[test]
fn kv_round_trip() {
    let p = kv_payload(&[("a", "1".into()), ("b", "x y".into())]);
    assert_eq!(
        parse_kv(&p),
        vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
    );
}
