use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;
use crate::rest::{Credentials, Rest, StateChange};
use crate::service::core::Ticket;

fn put(ticket: u64, node: &str, agent: &str) -> RestJob {
    (
        Ticket(ticket),
        RestCall::SetState {
            node: node.into(),
            agent: agent.into(),
            creds: Credentials {
                user: agent.into(),
                password: "pw".into(),
            },
            change: StateChange {
                state: "READY".into(),
                extension: None,
                reason_code_id: None,
            },
            request_id: format!("r{ticket}"),
        },
    )
}

#[test]
fn an_agents_calls_run_one_at_a_time_in_order_and_never_hold_up_another_agent() {
    let mut q = Queues::default();
    q.push(put(1, "n", "a"));
    q.push(put(2, "n", "a"));
    q.push(put(3, "n", "b"));
    let (ka, first) = q.take().expect("a's first call");
    assert_eq!(first.0, Ticket(1));
    let (kb, second) = q.take().expect("b's call, not a's second");
    assert_eq!(second.0, Ticket(3));
    assert!(q.take().is_none(), "a's second call waits for its first");
    q.done(kb);
    assert!(q.take().is_none());
    q.done(ka);
    let (_, third) = q.take().expect("a's second call once its first is done");
    assert_eq!(third.0, Ticket(2));
}

/// A Finesse node that accepts connections and never answers, until released.
struct HungNode {
    base: String,
    release: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HungNode {
    fn start() -> HungNode {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let release = Arc::new(AtomicBool::new(false));
        let r = release.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !r.load(Ordering::Acquire) {
                if let Ok((s, _)) = l.accept() {
                    held.push(s);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        HungNode {
            base,
            release,
            thread: Some(thread),
        }
    }
}

impl Drop for HungNode {
    fn drop(&mut self) {
        // Closing the held connections (and the listener) ends the calls at once.
        self.release.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A Finesse node that accepts every state change.
fn answering_node() -> (String, JoinHandle<()>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let t = std::thread::spawn(move || {
        if let Ok(Some(req)) = server.recv_timeout(Duration::from_secs(20)) {
            let _ = req.respond(tiny_http::Response::empty(202));
        }
    });
    (base, t)
}

#[test]
fn a_hung_finesse_request_of_one_agent_does_not_delay_another_agent() {
    let hung = HungNode::start();
    let (ok_base, ok_thread) = answering_node();
    let rest = Rest::new(Duration::from_secs(60), None);
    let (tx, rx) = crossbeam_channel::unbounded();
    let run: Arc<dyn Fn(RestJob) + Send + Sync> = Arc::new(move |(ticket, call): RestJob| {
        let answer = crate::service::shell::call_finesse(&rest, &call);
        let _ = tx.send((ticket, answer));
    });
    // Two workers: agent A's two calls must not take both while B waits.
    let pool = RestPool::new();
    let mut workers = Vec::new();
    pool.spawn_workers(2, run, &mut workers).unwrap();
    pool.submit(put(1, &hung.base, "A"));
    pool.submit(put(2, &hung.base, "A"));
    pool.submit(put(3, &ok_base, "B"));
    let (ticket, answer) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("B is answered while A hangs");
    assert_eq!(ticket, Ticket(3), "{answer:?}");
    assert!(answer.is_ok(), "{answer:?}");
    assert!(rx.try_recv().is_err(), "A's calls are still pending");
    drop(hung);
    let rest_of_a: Vec<Ticket> = (0..2)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).expect("A ends").0)
        .collect();
    assert_eq!(rest_of_a, vec![Ticket(1), Ticket(2)], "A's calls in order");
    pool.close();
    for w in workers {
        w.join().unwrap();
    }
    ok_thread.join().unwrap();
}

#[test]
fn calls_not_started_are_dropped_when_the_pool_closes() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let run: Arc<dyn Fn(RestJob) + Send + Sync> = Arc::new(move |(ticket, _): RestJob| {
        let _ = tx.send(ticket);
    });
    let pool = RestPool::new();
    pool.submit(put(1, "http://127.0.0.1:1", "A"));
    pool.submit(put(2, "http://127.0.0.1:1", "B"));
    pool.close();
    pool.submit(put(3, "http://127.0.0.1:1", "C"));
    let mut workers = Vec::new();
    pool.spawn_workers(2, run, &mut workers).unwrap();
    for w in workers {
        w.join().unwrap();
    }
    assert!(rx.try_recv().is_err(), "nothing ran after close");
}
