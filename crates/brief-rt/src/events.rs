//! Events: records are the JSON payload plus the topic (the event type).
//! [`MemoryBus`] keeps published records in memory, for tests and local
//! runs; generated `Publisher` impls write to it and generated `dispatch`
//! functions decode records for `Subscriber`s.

use crate::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};

/// One published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The topic, which is also the event type.
    pub topic: String,
    /// The JSON message.
    pub payload: Vec<u8>,
}

/// An in-memory event bus; clones share the same records.
#[derive(Debug, Clone, Default)]
pub struct MemoryBus {
    records: Arc<Mutex<Vec<Record>>>,
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `event` as JSON on `topic`.
    pub fn publish_json<T: Serialize>(&self, topic: &str, event: &T) -> Result<(), Error> {
        let payload = serde_json::to_vec(event)
            .map_err(|e| Error::internal(format!("cannot encode event: {e}")))?;
        self.records
            .lock()
            .map_err(|_| Error::internal("event bus poisoned"))?
            .push(Record {
                topic: topic.to_string(),
                payload,
            });
        Ok(())
    }

    /// Removes and returns every record, oldest first.
    pub fn drain(&self) -> Vec<Record> {
        self.records
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// A copy of every record, oldest first.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Decodes an event payload, a JSON object (unknown fields ignored).
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    crate::codec::decode_message(payload)
        .map_err(|e| Error::invalid_argument(format!("invalid event payload: {e}")))
}
