//! The event recorder writing through a real API server: repeats patch one event,
//! floods of similar events are combined.

use std::time::Duration;

use client::api::{Api, ListParams, PostParams};
use client::events::{
    AGGREGATE_PREFIX, EventBroadcaster, EventSource, EventType, object_reference,
};
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use tokio::time::Instant;

use crate::api::config_map;
use crate::server::TestServer;

async fn events_about(events: &Api<Event>, name: &str) -> Vec<Event> {
    let list = events
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await
        .expect("list events");
    list.items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorder_counts_repeats_and_combines_similar_events() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let repeated = cms
        .create(&config_map("repeated", &[], "1"), &PostParams::default())
        .await
        .expect("create");
    let flooded = cms
        .create(&config_map("flooded", &[], "1"), &PostParams::default())
        .await
        .expect("create");

    let broadcaster = EventBroadcaster::new(client.clone());
    let recorder = broadcaster.new_recorder(EventSource {
        component: "test-controller".to_string(),
        host: None,
    });
    let reference = object_reference(&repeated);
    for _ in 0..3 {
        recorder.event(
            &reference,
            EventType::Normal,
            "Synced",
            "synced the configmap",
        );
    }
    let reference = object_reference(&flooded);
    for i in 1..=12 {
        recorder.event(
            &reference,
            EventType::Warning,
            "Failed",
            &format!("attempt {i}"),
        );
    }

    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let repeats = events_about(&events, "repeated").await;
        let floods = events_about(&events, "flooded").await;
        let combined: Vec<&Event> = floods
            .iter()
            .filter(|e| {
                e.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with(AGGREGATE_PREFIX))
            })
            .collect();
        let done = repeats.len() == 1
            && repeats[0].count == Some(3)
            && floods.len() == 10
            && combined.len() == 1
            && combined[0].count == Some(3);
        if done {
            let event = &repeats[0];
            assert_eq!(event.reason.as_deref(), Some("Synced"));
            assert_eq!(event.type_.as_deref(), Some("Normal"));
            assert_eq!(
                event.source.as_ref().and_then(|s| s.component.as_deref()),
                Some("test-controller")
            );
            assert_eq!(
                event.involved_object.uid, repeated.metadata.uid,
                "the event points at the object"
            );
            assert_eq!(
                combined[0].message.as_deref(),
                Some(format!("{AGGREGATE_PREFIX}attempt 12").as_str())
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events did not converge: repeated {:?}, flooded {:?}",
            repeats
                .iter()
                .map(|e| (e.count, e.message.clone()))
                .collect::<Vec<_>>(),
            floods
                .iter()
                .map(|e| (e.count, e.message.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broadcaster.shutdown().await;
    server.stop().await;
}
