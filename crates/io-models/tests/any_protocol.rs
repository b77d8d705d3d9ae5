//! Every IO model serves a second protocol — the line-uppercasing server of `netkit::lines` —
//! through the same entry point it serves echo with: `run_with(listener, stop, new_conn)` for the
//! event loops, a handler for the blocking server. No loop is copied for it. (A test of a model
//! with an exercise carries that exercise's test name, so it is graded with it.) The io_uring
//! model is not here: a completion loop cannot drive the readiness-shaped `Connection` without
//! turning into epoll over a ring, so it serves echo only (its module docs say why).

use harness::lines::{assert_uppercases, check_framing};
use harness::serve;
use io_models::{blocking, epoll_edge, epoll_level, nonblocking, poll, reactor, select, selectors};
use netkit::lines::{serve_blocking, uppercase, uppercase_conn as upper};

#[test]
fn nonblocking_serves_the_line_protocol() {
    let server = serve(|l, stop| nonblocking::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn select_model_serves_the_line_protocol() {
    let server = serve(|l, stop| select::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn poll_conforms_to_the_line_protocol_too() {
    let server = serve(|l, stop| poll::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn epoll_level_serves_the_line_protocol() {
    let server = serve(|l, stop| epoll_level::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn epoll_et_serves_the_line_protocol() {
    let server = serve(|l, stop| epoll_edge::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn selectors_conforms_to_the_line_protocol_too() {
    let server = serve(|l, stop| selectors::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn reactor_wakes_a_task_per_line_protocol_connection() {
    let server = serve(|l, stop| reactor::run_with(l, &stop, upper));
    assert_uppercases(server.addr());
}

#[test]
fn blocking_serves_the_line_protocol_one_client_at_a_time() {
    // One client at a time: it passes every exchange but the concurrent one (the echo suite
    // shows that failure for this model).
    let server = serve(|l, stop| blocking::run_with(l, &stop, |s| serve_blocking(s, uppercase)));
    check_framing(server.addr()).unwrap();
}
