//! The embedded directory logs each key credential it skips, naming the user, the file line
//! and the reason. Its own test binary: tests of another binary running in parallel threads
//! hit the same log call site without a subscriber, and tracing's per-call-site interest
//! cache can then miss this test's thread-local subscriber.

// Test code: a panic is how a check fails, also in helpers outside #[test] functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use kdc_directory::EmbeddedDirectory;
use support::sample::sample_file;

/// Collects every event's fields as text; enough to see what a warning says.
#[derive(Clone, Default)]
struct CapturedEvents(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for CapturedEvents {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = FieldText(format!("{} ", event.metadata().level()));
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn skipped_values_are_logged_with_user_and_reason() {
    let events = CapturedEvents::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    let dir = tempfile::tempdir().unwrap();
    EmbeddedDirectory::load(sample_file(&dir)).await.unwrap();
    let logged = events.0.lock().unwrap().clone();
    let warnings: Vec<&String> = logged.iter().filter(|e| e.starts_with("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{logged:?}");
    let warning = warnings[0];
    assert!(warning.contains("alice@EXAMPLE.TEST"), "{warning}");
    // The value "B:8:00020000:..." holds only the version: no KeyID.
    assert!(warning.contains("KeyID"), "{warning}");
    assert!(warning.contains("line=8"), "{warning}");
}
