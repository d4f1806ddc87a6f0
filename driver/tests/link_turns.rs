//! The link over a real socket, against a fake broker that delivers a burst of messages at
//! once: what the owner queued meanwhile (answers, heartbeats) is carried out between slices
//! of the burst, not after the whole of it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use driver::clock::Now;
use driver::link::{Link, LinkHandler, LinkSender, LinkSettings, Outbox};
use driver::stomp::{BrokerAddr, Frame};

/// Messages in the burst: about 4 MiB, many read slices.
const BURST: usize = 4_000;

/// Records the order of frames and commands; asks for a command at the first frame.
struct Recorder {
    sender: LinkSender<&'static str>,
    frames: usize,
    /// How many frames had been handled when the command came through.
    command_after: Option<usize>,
    done: mpsc::Sender<usize>,
}

impl LinkHandler<&'static str> for Recorder {
    fn on_up(&mut self, _now: Now, _out: &mut Outbox) {}
    fn on_down(&mut self, _now: Now, _reason: &str, _first: bool) {}
    fn on_frame(&mut self, _now: Now, frame: Frame, _out: &mut Outbox) {
        if frame.command != "MESSAGE" {
            return;
        }
        self.frames += 1;
        if self.frames == 1 {
            // A host thread's command (in the connector: its heartbeat) arrives now.
            assert!(self.sender.send("beat"));
        }
        if self.frames == BURST {
            let _ = self.done.send(self.command_after.unwrap_or(BURST));
        }
    }
    fn on_command(&mut self, _now: Now, _cmd: &'static str, _out: &mut Outbox) {
        self.command_after.get_or_insert(self.frames);
    }
}

#[test]
fn a_command_queued_during_a_burst_goes_through_before_the_burst_is_handled() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let broker = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let mut got = Vec::new();
        while !got.contains(&0) {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the link closed before CONNECT");
            got.extend_from_slice(&buf[..n]);
        }
        let mut out = Vec::new();
        Frame::new("CONNECTED")
            .header("version", "1.2")
            .header("heart-beat", "0,0")
            .encode(&mut out);
        let body = vec![b'x'; 1000];
        for i in 0..BURST {
            Frame::new("MESSAGE")
                .header("destination", "/queue/burst")
                .header("message-id", &i.to_string())
                .header("subscription", "s")
                .body(body.clone())
                .encode(&mut out);
        }
        // All at once: the link finds the socket full, slice after slice.
        s.write_all(&out).unwrap();
        // Keep the connection open until the test ends.
        let _ = s.read(&mut buf);
    });
    let settings = LinkSettings {
        brokers: vec![BrokerAddr::new("127.0.0.1", port)],
        login: String::new(),
        passcode: String::new(),
        heartbeat: Duration::ZERO,
        connect_timeout: Duration::from_secs(30),
        reconnect_min: Duration::from_secs(1),
        reconnect_max: Duration::from_secs(1),
        tls: None,
    };
    let (link, sender) = Link::<&'static str>::new(settings).unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let mut recorder = Recorder {
        sender: sender.clone(),
        frames: 0,
        command_after: None,
        done: done_tx,
    };
    let thread = std::thread::spawn(move || link.run(&mut recorder));
    let command_after = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the burst was handled");
    sender.stop();
    thread.join().unwrap();
    broker.join().unwrap();
    // One read slice (256 KiB) holds about 250 of these messages: the command came through
    // after the first slice, not after the 4,000 of the burst.
    assert!(
        command_after < BURST / 4,
        "the command waited behind {command_after} of {BURST} messages"
    );
}
