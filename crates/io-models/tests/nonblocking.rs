//! The non-blocking busy loop: it passes the echo suite, and it spins while idle.

use std::fs;
use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, ExampleProcess, echo, serve};
use io_models::{epoll_level, nonblocking};
use netkit::Stop;

#[test]
fn nonblocking_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| nonblocking::run(l, &stop))));
}

#[test]
fn nonblocking_example_conforms_and_exits_cleanly() {
    echo::assert_conformance(|| {
        ExampleProcess::start("nonblocking_echo", &["--addr", "127.0.0.1:0"])
    });
    let server = ExampleProcess::start("nonblocking_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"spin\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "spin");
    server.interrupt_and_expect_clean_exit().unwrap();
}

/// How long each server is left idle while its thread's CPU demand is measured.
const IDLE: Duration = Duration::from_millis(300);

#[test]
fn nonblocking_spins_while_idle_and_epoll_does_not() {
    let busy = idle_cpu_demand(nonblocking::run);
    // (epoll rather than poll: poll's event handling is an exercise, and this test must not
    // depend on a student's solution.)
    let waiting = idle_cpu_demand(epoll_level::run);
    // A busy loop is always runnable: on a CPU, or waiting in a run queue for one. On a quiet
    // machine that is all CPU time; on a loaded one part of it is waiting — either way ~100% of
    // wall time. A thread blocked in epoll_wait(2) runs only for the few events there are.
    // (Its wake-ups may wait for a core on a loaded machine; that is not its doing, so only its
    // time on a CPU counts.)
    assert!(
        busy.runnable_share() > 0.5,
        "the busy loop should want the CPU most of the time while idle: {busy:?}"
    );
    assert!(
        waiting.on_cpu_share() < 0.05,
        "epoll should use (almost) no CPU while idle: {waiting:?}"
    );
}

/// What a server thread asked of the CPU while no client was connected.
#[derive(Debug)]
struct Demand {
    on_cpu: Duration,
    waiting_for_cpu: Duration,
    wall: Duration,
}

impl Demand {
    /// The fraction of wall time the thread was running or ready to run.
    fn runnable_share(&self) -> f64 {
        (self.on_cpu + self.waiting_for_cpu).as_secs_f64() / self.wall.as_secs_f64()
    }

    /// The fraction of wall time the thread was running.
    fn on_cpu_share(&self) -> f64 {
        self.on_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// Runs `run` on its own thread, confirms it serves (one round trip), leaves it idle for
/// [`IDLE`], stops it, and reports the thread's CPU demand over its whole life.
fn idle_cpu_demand(run: fn(TcpListener, &Stop) -> io::Result<()>) -> Demand {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(Stop::new().unwrap());
    let flag = Arc::clone(&stop);
    let server = thread::spawn(move || {
        let (cpu, wait) = thread_sched_times();
        let began = Instant::now();
        run(listener, &flag).unwrap();
        let (cpu_end, wait_end) = thread_sched_times();
        Demand {
            on_cpu: cpu_end - cpu,
            waiting_for_cpu: wait_end - wait,
            wall: began.elapsed(),
        }
    });
    let mut client = Conn::connect(addr).unwrap();
    client.write_all(b"are you there?\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "are you there?");
    drop(client);
    thread::sleep(IDLE); // the measurement window, not a wait for readiness
    stop.stop();
    server.join().unwrap()
}

/// (time on a CPU, time waiting in a run queue) of the calling thread, from
/// `/proc/thread-self/schedstat`; where the kernel has no schedstat, the thread's CPU clock and
/// zero.
fn thread_sched_times() -> (Duration, Duration) {
    if let Ok(text) = fs::read_to_string("/proc/thread-self/schedstat") {
        let fields: Vec<u64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [on_cpu, waiting, ..] = fields[..] {
            return (Duration::from_nanos(on_cpu), Duration::from_nanos(waiting));
        }
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to `now`, a valid local.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(result, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    let on_cpu = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    (on_cpu, Duration::ZERO)
}
