//! The probe library as a long-running caller uses it: typed options, many probes on one
//! runtime, the deadline owned by the caller. No binary involved.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use keepalived_checks::rtsp::{self, url::RtspUrl};
use keepalived_checks::sip::{self, uri::SipUri};
use keepalived_checks::target::Target;
use keepalived_checks::{tcp, Deadline, ProbeContext, Stage, Verdict};

use crate::support::peers::fault_peer;
use crate::support::*;

fn ctx(budget: Duration) -> ProbeContext {
    ProbeContext::new(Deadline::new(Instant::now(), budget), None)
}

#[test]
fn two_hundred_probes_share_one_multi_threaded_runtime() {
    let sip_peer = fault_peer("sip", "udp", "ok");
    let rtsp_peer = fault_peer("rtsp", "tcp", "ok");
    let tcp_peer: SocketAddr = tcp_peer("127.0.0.1:0", silent);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcomes = runtime.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200 {
            // tokio::spawn needs Send futures: a probe holds no process-wide state.
            let task = match i % 3 {
                0 => {
                    let uri: SipUri = format!("sip:127.0.0.1:{}", sip_peer.port).parse().unwrap();
                    let opts = sip::Options::new(uri);
                    tokio::spawn(async move {
                        let ctx = ctx(Duration::from_secs(5));
                        ctx.within_deadline(sip::probe(&opts, &ctx)).await
                    })
                }
                1 => {
                    let url: RtspUrl = format!("rtsp://127.0.0.1:{}/live", rtsp_peer.port)
                        .parse()
                        .unwrap();
                    let mut opts = rtsp::Options::new(url);
                    opts.describe = true;
                    tokio::spawn(async move {
                        let ctx = ctx(Duration::from_secs(5));
                        ctx.within_deadline(rtsp::probe(&opts, &ctx)).await
                    })
                }
                _ => {
                    let target = Target::parse(&tcp_peer.to_string(), "tcp", None).unwrap();
                    let opts = tcp::Options::new(target);
                    tokio::spawn(async move {
                        let ctx = ctx(Duration::from_secs(5));
                        ctx.within_deadline(tcp::probe(&opts, &ctx)).await
                    })
                }
            };
            tasks.push(task);
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        outcomes
    });
    assert_eq!(outcomes.len(), 200);
    for o in &outcomes {
        assert_eq!(o.verdict, Verdict::Healthy, "{o:?}");
        assert!(o.detail("peer").is_some(), "{o:?}");
    }
}

#[test]
fn the_callers_deadline_ends_a_probe_saying_what_it_waited_for() {
    let peer = fault_peer("sip", "udp", "silence");
    let uri: SipUri = format!("sip:127.0.0.1:{}", peer.port).parse().unwrap();
    let mut opts = sip::Options::new(uri);
    opts.t1 = Some(Duration::from_millis(100));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        let ctx = ctx(Duration::from_millis(450));
        ctx.within_deadline(sip::probe(&opts, &ctx)).await
    });
    assert_eq!(
        (outcome.verdict, outcome.stage),
        (Verdict::Unhealthy, Stage::Receive)
    );
    // T1 100 ms within 450 ms: sent at 0, 100, 300 ms.
    assert!(
        outcome.reason.starts_with(
            "timed out after 450.0 ms while waiting for a final response (3 sent over udp"
        ),
        "{}",
        outcome.reason
    );
}
