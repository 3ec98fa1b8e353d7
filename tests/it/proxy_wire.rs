//! The proxy under traffic no driver sends: pipelines, errors mid-pipeline, partial and
//! malformed messages, cancel requests. Sent byte for byte with [`RawClient`].

use std::time::Duration;

use pglab::data::proxy::{ProxyEvent, SessionEnd, Shape};

use crate::proxy::Proxied;
use crate::wire::{Backend, RawClient, command_tags, errors};

impl Proxied {
    /// A raw client through the proxy, logged in as the owner, startup events consumed.
    async fn raw(&mut self) -> RawClient {
        let options = self.db.owner.clone();
        let client = RawClient::connect(
            self.proxy.local_addr(),
            options.get_username(),
            self.db.owner_password().unwrap(),
            options.get_database().unwrap(),
            "raw",
        )
        .await
        .unwrap();
        self.take();
        client
    }

    async fn session_end(&mut self) -> SessionEnd {
        self.wait_for(|e| match e {
            ProxyEvent::SessionEnded { end, .. } => Some(end),
            _ => None,
        })
        .await
    }
}

#[tokio::test]
async fn an_error_mid_pipeline_is_one_round_trip_with_the_rest_skipped() {
    let mut p = Proxied::start().await;
    let mut client = p.raw().await;
    client
        .parse("", "select 1")
        .bind("", "", &[])
        .execute("", 0)
        .parse("", "select 1/0")
        .bind("", "", &[])
        .execute("", 0)
        .parse("", "select 3")
        .bind("", "", &[])
        .execute("", 0)
        .sync()
        .send()
        .await
        .unwrap();
    let answer = client.read_until_ready().await.unwrap();
    assert_eq!(errors(&answer), ["22012"]);
    assert_eq!(command_tags(&answer), ["SELECT 1"]);
    let rts = p.round_trips();
    assert_eq!(rts.len(), 1);
    // The statement the server skipped is listed, as skipped.
    let ran: Vec<(&str, bool, bool)> = rts[0]
        .statements
        .iter()
        .map(|s| (&*s.sql, s.failed, s.skipped))
        .collect();
    assert_eq!(
        ran,
        [
            ("select 1", false, false),
            ("select 1/0", true, false),
            ("select 3", false, true)
        ]
    );
    assert_eq!(rts[0].error.as_ref().unwrap().sqlstate, "22012");
}

#[tokio::test]
async fn pipelined_syncs_each_count_as_a_round_trip() {
    let mut p = Proxied::start().await;
    let mut client = p.raw().await;
    for sql in ["select 1", "select 2", "select 3"] {
        client
            .parse("", sql)
            .bind("", "", &[])
            .execute("", 0)
            .sync();
    }
    client.send().await.unwrap();
    for _ in 0..3 {
        client.read_until_ready().await.unwrap();
    }
    let rts = p.round_trips();
    let sql: Vec<&str> = rts.iter().map(|rt| &*rt.statements[0].sql).collect();
    assert_eq!(sql, ["select 1", "select 2", "select 3"]);
    assert!(rts.iter().all(|rt| rt.shape == Shape::Execute));
}

#[tokio::test]
async fn named_statements_link_parse_bind_and_execute_across_round_trips() {
    let mut p = Proxied::start().await;
    let mut client = p.raw().await;
    client
        .parse("by_id", "select username from users where id = $1")
        .describe_statement("by_id")
        .sync()
        .send()
        .await
        .unwrap();
    client.read_until_ready().await.unwrap();
    for id in [&b"1"[..], b"2", b"2"] {
        client
            .bind("", "by_id", &[Some(id)])
            .execute("", 0)
            .sync()
            .send()
            .await
            .unwrap();
        client.read_until_ready().await.unwrap();
    }
    let rts = p.round_trips();
    assert_eq!(rts[0].shape, Shape::Prepare);
    let params: Vec<u64> = rts[1..].iter().map(|rt| rt.statements[0].params).collect();
    assert_ne!(params[0], params[1], "different values, different hashes");
    assert_eq!(params[1], params[2], "same value, same hash");
    assert!(
        rts[1..]
            .iter()
            .all(|rt| &*rt.statements[0].sql == "select username from users where id = $1")
    );
}

#[tokio::test]
async fn a_client_hanging_up_mid_message_ends_only_its_session() {
    let mut p = Proxied::start().await;
    let mut bystander = p.raw().await;
    let mut client = p.raw().await;
    // Half a Query message: the tag and length promise 100 bytes, 10 arrive.
    let mut partial = vec![b'Q'];
    partial.extend_from_slice(&100u32.to_be_bytes());
    partial.extend_from_slice(b"select 1 ");
    client.send_bytes(&partial).await.unwrap();
    drop(client);
    assert_eq!(
        p.session_end().await,
        SessionEnd::Failed("the client hung up in the middle of a message".into())
    );
    bystander.query("select 1").send().await.unwrap();
    let answer = bystander.read_until_ready().await.unwrap();
    assert_eq!(command_tags(&answer), ["SELECT 1"]);
}

#[tokio::test]
async fn impossible_lengths_end_the_session_with_a_reason_and_nothing_else() {
    for (len, why) in [
        (2u32, "below the minimum of 4"),
        (u32::MAX, "above the maximum"),
    ] {
        let mut p = Proxied::start().await;
        let mut bystander = p.raw().await;
        let mut client = p.raw().await;
        let mut bad = vec![b'Q'];
        bad.extend_from_slice(&len.to_be_bytes());
        client.send_bytes(&bad).await.unwrap();
        match p.session_end().await {
            SessionEnd::Failed(reason) => assert!(reason.contains(why), "{reason}"),
            other => panic!("{other:?}"),
        }
        client.read_until_closed().await.unwrap();
        bystander.query("select 1").send().await.unwrap();
        bystander.read_until_ready().await.unwrap();
    }
}

#[tokio::test]
async fn a_malformed_startup_message_is_refused() {
    let p = Proxied::start().await;
    for len in [3u32, 1_000_000] {
        let mut client = RawClient::open(p.proxy.local_addr()).await.unwrap();
        let mut bad = len.to_be_bytes().to_vec();
        bad.extend_from_slice(&[0, 3, 0, 0]);
        client.send_bytes(&bad).await.unwrap();
        client.read_until_closed().await.unwrap();
    }
    let mut p = p;
    let mut fine = p.raw().await;
    fine.query("select 1").send().await.unwrap();
    fine.read_until_ready().await.unwrap();
}

#[tokio::test]
async fn a_cancel_request_reaches_the_server_and_stops_the_query() {
    let mut p = Proxied::start().await;
    let mut client = p.raw().await;
    let (pid, secret) = client.backend_key().unwrap();
    client.query("select pg_sleep(30)").send().await.unwrap();
    // Give the server a moment to start sleeping; a cancel before it does is lost.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut cancel = RawClient::open(p.proxy.local_addr()).await.unwrap();
    let mut request = 16u32.to_be_bytes().to_vec();
    request.extend_from_slice(&80_877_102u32.to_be_bytes());
    request.extend_from_slice(&pid.to_be_bytes());
    request.extend_from_slice(&secret.to_be_bytes());
    cancel.send_bytes(&request).await.unwrap();
    let answer = client.read_until_ready().await.unwrap();
    assert_eq!(
        errors(&answer),
        ["57014"],
        "canceling statement due to user request"
    );
    let cancelled = p
        .wait_for(|e| match e {
            ProxyEvent::RoundTrip(rt) => rt.error.map(|e| e.sqlstate),
            _ => None,
        })
        .await;
    assert_eq!(cancelled, "57014");
    assert!(
        answer
            .iter()
            .any(|m| matches!(m, Backend::ReadyForQuery(_)))
    );
}

#[tokio::test]
async fn a_copy_through_execute_is_one_round_trip_and_the_next_ones_stay_in_step() {
    let mut p = Proxied::start().await;
    let mut client = p.raw().await;
    client
        .query("create temporary table numbers (n int)")
        .send()
        .await
        .unwrap();
    client.read_until_ready().await.unwrap();
    // As tokio-postgres does it: Sync right after the Execute, before the data.
    client
        .parse("", "copy numbers from stdin")
        .bind("", "", &[])
        .execute("", 0)
        .sync()
        .send()
        .await
        .unwrap();
    while !matches!(client.read_backend().await.unwrap(), Backend::CopyIn) {}
    client
        .copy_data(b"1\n2\n")
        .copy_done()
        .sync()
        .send()
        .await
        .unwrap();
    let answer = client.read_until_ready().await.unwrap();
    assert_eq!(command_tags(&answer), ["COPY 2"]);
    client.query("select 1").send().await.unwrap();
    client.read_until_ready().await.unwrap();
    let rts = p.round_trips();
    let seen: Vec<(&str, u64)> = rts
        .iter()
        .map(|rt| (&*rt.statements[0].sql, rt.statements[0].rows))
        .collect();
    assert_eq!(
        seen,
        [
            ("create temporary table numbers (n int)", 0),
            ("copy numbers from stdin", 2),
            ("select 1", 1)
        ]
    );
}

#[tokio::test]
async fn a_client_that_says_goodbye_is_reported_as_closing_the_session() {
    let mut p = Proxied::start().await;
    for _ in 0..10 {
        let mut client = p.raw().await;
        client.terminate().send().await.unwrap();
        // The server hangs up on Terminate; whichever side the proxy sees close first,
        // the client ended the session.
        assert_eq!(p.session_end().await, SessionEnd::ClientClosed);
    }
}
