//! Events: publish typed events on the in-memory bus, dispatch them by topic.

use brief_example_summer::events::{self, Publisher, ServiceCreate, Subscriber};
use brief_example_summer::events_audit;
use brief_rt::events::MemoryBus;
use std::sync::Mutex;

#[derive(Default)]
struct Seen(Mutex<Vec<ServiceCreate>>);

impl Subscriber for Seen {
    async fn on_service_create(&self, event: ServiceCreate) -> Result<(), brief_rt::Error> {
        self.0.lock().expect("not poisoned").push(event);
        Ok(())
    }
}

#[tokio::test]
async fn publish_and_dispatch() {
    let bus = MemoryBus::new();
    let event = ServiceCreate {
        service_id: 7,
        user_id: 42,
    };
    bus.publish_service_create(&event).await.expect("published");
    let records = bus.drain();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].topic, "service.create");
    // The payload is the JSON message with the declared field names.
    let json: serde_json::Value = serde_json::from_slice(&records[0].payload).expect("json");
    assert_eq!(json, serde_json::json!({"serviceId": 7, "userId": 42}));

    let seen = Seen::default();
    assert!(
        events::dispatch(&seen, &records[0].topic, &records[0].payload)
            .await
            .expect("dispatched")
    );
    assert!(
        !events::dispatch(&seen, "other.topic", b"{}")
            .await
            .expect("ignored")
    );
    // A payload is a JSON object: an array is refused, not read by position.
    let err = events::dispatch(&seen, "service.create", b"[7, 42]")
        .await
        .expect_err("not an object");
    assert_eq!(err.code, brief_rt::Code::InvalidArgument);
    assert_eq!(*seen.0.lock().expect("not poisoned"), vec![event]);
}

/// The audit consumer's contract knows only `serviceId`.
#[derive(Default)]
struct Audit(Mutex<Vec<i64>>);

impl events_audit::Subscriber for Audit {
    async fn on_service_create(
        &self,
        event: events_audit::ServiceCreate,
    ) -> Result<(), brief_rt::Error> {
        self.0.lock().expect("not poisoned").push(event.service_id);
        Ok(())
    }
}

#[tokio::test]
async fn a_consumer_with_a_subset_contract_reads_the_producers_events() {
    let bus = MemoryBus::new();
    bus.publish_service_create(&ServiceCreate {
        service_id: 9,
        user_id: 1,
    })
    .await
    .expect("published");
    let audit = Audit::default();
    for r in bus.drain() {
        assert!(
            events_audit::dispatch(&audit, &r.topic, &r.payload)
                .await
                .expect("decoded")
        );
    }
    assert_eq!(*audit.0.lock().expect("not poisoned"), vec![9]);
}
