//! The sync differ (in progress).
