//! Embedded pub/sub: publishing appends to the durable log; delivery is the
//! topic trigger's job (`triggers::topic::embedded`).

use async_trait::async_trait;

use crate::capabilities::CapResult;
use crate::capabilities::embedded_store::{Db, log};
use crate::capabilities::pubsub::PubSubBackend;
use crate::cloudevent::Event;

pub struct EmbeddedPubSub {
    pub db: Db,
}

#[async_trait]
impl PubSubBackend for EmbeddedPubSub {
    async fn publish(&self, _publisher: &str, topic: &str, events: Vec<Event>) -> CapResult<()> {
        let topic = topic.to_owned();
        self.db
            .write(move |txn, touched| log::append(txn, touched, &topic, &events))
            .await
    }
}
