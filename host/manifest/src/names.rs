//! Names the platform checks the same way in the manifest and at runtime.

/// Topic names are what Kafka accepts, so both backends agree.
pub fn check_topic(topic: &str) -> Result<(), String> {
    let ok = !topic.is_empty()
        && topic.len() <= 249
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(format!("topic {topic:?} must be 1..=249 of [A-Za-z0-9._-]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_what_kafka_accepts() {
        assert!(check_topic("task-events.v1_x").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a b").is_err());
        assert!(check_topic(&"t".repeat(250)).is_err());
    }
}
