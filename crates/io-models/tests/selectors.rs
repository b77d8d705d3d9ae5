//! The `polling` event loop: conformance (in-process and as its example) and back-pressure.

mod backpressure;

use harness::{Conn, ExampleProcess, echo, serve};
use io_models::selectors;

#[test]
fn selectors_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| selectors::run(l, &stop))));
}

#[test]
fn selectors_example_conforms_and_exits_cleanly_on_ctrl_c() {
    echo::assert_conformance(|| {
        ExampleProcess::start("selectors_echo", &["--addr", "127.0.0.1:0"])
    });
    let server = ExampleProcess::start("selectors_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"bye\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "bye");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn selectors_backpressure_stops_a_client_that_never_reads_while_others_are_served() {
    backpressure::assert_stops_a_client_that_never_reads(|l, stop| selectors::run(l, &stop));
}
