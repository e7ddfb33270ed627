//! Java ZooKeeper's on-disk formats (txn log, snapshots, epoch files) and restore.

pub mod cli;
