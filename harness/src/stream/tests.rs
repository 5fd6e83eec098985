use super::*;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn joins_chunks_and_splits_lines() {
    let (tx, rx) = mpsc::channel();
    let mut r = LineReader::new(rx);
    tx.send(b"COLDBENCH-RE".to_vec()).unwrap();
    tx.send(b"ADY noop 1\nRES ok".to_vec()).unwrap();
    tx.send(b" crc32=0 out_bytes=0\n".to_vec()).unwrap();
    let d = Instant::now() + Duration::from_secs(1);
    assert_eq!(r.read_line(d).unwrap(), "COLDBENCH-READY noop 1");
    assert_eq!(r.read_line(d).unwrap(), "RES ok crc32=0 out_bytes=0");
    drop(tx);
    assert!(matches!(r.read_line(d), Err(LineError::Eof { .. })));
}

#[test]
fn a_flood_without_newline_stops_at_the_bound() {
    let (tx, rx) = mpsc::channel();
    let mut r = LineReader::new(rx);
    let chunk = vec![b'x'; 64 << 10];
    // Far more than the bound is queued; reading stops just past it.
    for _ in 0..64 {
        tx.send(chunk.clone()).unwrap();
    }
    let d = Instant::now() + Duration::from_secs(5);
    match r.read_line(d) {
        Err(LineError::TooLong { bytes, .. }) => {
            assert!(bytes > MAX_LINE_BYTES && bytes <= MAX_LINE_BYTES + chunk.len())
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

#[test]
fn a_digest_covers_every_byte_whatever_was_taken_early() {
    let whole = b"line one\nbinary \x00\xff tail without newline".to_vec();
    let (tx, rx) = mpsc::channel();
    let mut r = LineReader::new(rx);
    tx.send(whole[..5].to_vec()).unwrap();
    assert!(!r.ended(), "the sender is still there");
    tx.send(whole[5..20].to_vec()).unwrap();
    tx.send(whole[20..].to_vec()).unwrap();
    drop(tx);
    assert!(r.ended());
    let d = r
        .digest_to_end(Instant::now() + Duration::from_secs(1))
        .unwrap();
    assert_eq!(d.crc32, coldbench_protocol::checksum(&whole));
    assert_eq!(d.bytes, whole.len() as u64);
}

#[test]
fn a_digest_waits_for_the_end_and_times_out_without_it() {
    let (tx, rx) = mpsc::channel();
    let mut r = LineReader::new(rx);
    tx.send(b"partial".to_vec()).unwrap();
    match r.digest_to_end(Instant::now() + Duration::from_millis(20)) {
        Err(LineError::Timeout { partial }) => assert_eq!(partial, "partial"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut r = LineReader::new(rx);
    drop(tx);
    let d = r
        .digest_to_end(Instant::now() + Duration::from_secs(1))
        .unwrap();
    assert_eq!((d.crc32, d.bytes), (coldbench_protocol::checksum(b""), 0));
}

#[test]
fn a_line_is_stamped_when_its_last_bytes_were_read() {
    // Stamped chunks: the sender's stamp of the chunk holding the newline,
    // not when this thread took the line.
    let (tx, mut r) = stamped_channel();
    assert_eq!(r.line_read_ns(), 0);
    tx.send(b"COLDBENCH-RE".to_vec(), 100).unwrap();
    tx.send(b"ADY noop 1\nRES ok\nRES".to_vec(), 200).unwrap();
    tx.send(b" again\n".to_vec(), 300).unwrap();
    let d = Instant::now() + Duration::from_secs(1);
    assert_eq!(r.read_line(d).unwrap(), "COLDBENCH-READY noop 1");
    assert_eq!(r.line_read_ns(), 200);
    assert_eq!(r.read_line(d).unwrap(), "RES ok");
    assert_eq!(r.line_read_ns(), 200, "its newline came in the same chunk");
    assert_eq!(r.read_line(d).unwrap(), "RES again");
    assert_eq!(r.line_read_ns(), 300);
    // Plain chunks: stamped on receipt, on this thread.
    let (tx, rx) = mpsc::channel();
    let mut r = LineReader::new(rx);
    tx.send(b"line\n".to_vec()).unwrap();
    let before = monotonic_ns();
    r.read_line(d).unwrap();
    assert!((before..=monotonic_ns()).contains(&r.line_read_ns()));
}

#[test]
fn a_stamped_stream_holds_at_most_its_backlog_and_says_so_when_cut() {
    let (tx, mut r) = stamped_channel();
    let chunk = vec![b'x'; 64 << 10];
    let fit = MAX_BACKLOG_BYTES / chunk.len();
    for _ in 0..fit {
        tx.send(chunk.clone(), 1).unwrap();
    }
    // One byte more than the bound is refused, and nothing of it sent.
    assert_eq!(
        tx.send(vec![b'y'], 2),
        Err(BacklogFull {
            backlog_bytes: MAX_BACKLOG_BYTES,
            chunk_bytes: 1,
            limit_bytes: MAX_BACKLOG_BYTES,
        })
    );
    // Lines sent before the cut are all read, then the cut is reported
    // as such, not as a clean end of file.
    let (tx2, mut r2) = stamped_channel();
    let mut line = vec![b'x'; 64 << 10];
    *line.last_mut().unwrap() = b'\n';
    for _ in 0..fit {
        tx2.send(line.clone(), 1).unwrap();
    }
    assert!(tx2.send(line.clone(), 2).is_err(), "full");
    drop(tx2);
    let d = Instant::now() + Duration::from_secs(5);
    for _ in 0..fit {
        assert_eq!(r2.read_line(d).unwrap().len(), line.len() - 1);
    }
    match r2.read_line(d) {
        Err(LineError::Backlog { limit_bytes }) => assert_eq!(limit_bytes, MAX_BACKLOG_BYTES),
        other => panic!("expected the cut, got {other:?}"),
    }
    // Received bytes free the backlog: after the reader took a chunk,
    // the next one fits again.
    let first = r.source.recv(Some(d));
    assert!(matches!(first, Recv::Chunk(..)));
    tx.send(chunk.clone(), 3).unwrap();
    drop(tx);
    assert!(matches!(r.digest_to_end(d), Err(LineError::Backlog { .. })));
}

#[test]
fn a_command_being_digested_may_run_ahead_of_its_reader_further() {
    // A command's output, once its reader digests it, may be queued up
    // to MAX_DIGEST_BACKLOG_BYTES: 16 MiB sent while the reader is in
    // digest_to_end (on another thread) all arrive, none is cut.
    let (tx, mut r) = stamped_channel();
    let chunk = vec![b'z'; 1 << 20];
    let first = chunk.clone();
    tx.send(first, 1).unwrap();
    let whole: Vec<u8> = std::iter::repeat_n(&chunk, 16).flatten().copied().collect();
    let reader =
        std::thread::spawn(move || r.digest_to_end(Instant::now() + Duration::from_secs(10)));
    // Wait until the reader has taken the first chunk: it is digesting.
    while tx.backlog.bytes.load(Ordering::Acquire) > 0 {
        std::thread::yield_now();
    }
    assert_eq!(
        tx.backlog.limit_bytes.load(Ordering::Acquire),
        MAX_DIGEST_BACKLOG_BYTES
    );
    for _ in 1..16 {
        tx.send(chunk.clone(), 2).expect("within the digest bound");
    }
    drop(tx);
    let d = reader.join().unwrap().unwrap();
    assert_eq!(d.bytes, whole.len() as u64);
    assert_eq!(d.crc32, coldbench_protocol::checksum(&whole));
    // While lines are read, 16 MiB queued at once are cut at 8 MiB.
    let (tx, _r) = stamped_channel();
    let cut = (0..16).find(|_| tx.send(chunk.clone(), 3).is_err());
    assert_eq!(cut, Some(8));
}

#[test]
fn times_out() {
    let (_tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut r = LineReader::new(rx);
    let d = Instant::now() + Duration::from_millis(20);
    assert!(matches!(r.read_line(d), Err(LineError::Timeout { .. })));
}
