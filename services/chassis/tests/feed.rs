//! The event feed under concurrency, on SQLite and PostgreSQL: many writers whose transactions commit
//! out of order, some rolling back, and a follower that must see every committed event exactly once,
//! numbered 1, 2, 3 ... in order.

use std::{collections::HashSet, time::Duration};

use motcua_chassis::{
    db,
    feed::{self, Feed, FeedItem, NewEvent},
    testing::{TestDatabase, on_every_database},
};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tokio_stream::StreamExt;

struct FeedOnly;

#[derive(DeriveMigrationName)]
struct CreateFeed;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateFeed {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        feed::schema::create_tables(manager).await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for FeedOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateFeed)]
    }
}

async fn open(database: &TestDatabase, connections: u32) -> DatabaseConnection {
    let connection = db::connect(&database.url, Some(connections)).await.expect("database opens");
    db::migrate::<FeedOnly>(&connection).await.expect("feed tables");
    connection
}

fn event(writer: usize, index: usize) -> NewEvent {
    NewEvent {
        occur_time: motcua_chassis::clock::Clock::system().now(),
        subject: format!("things/{writer}-{index}"),
        request_id: format!("{writer}-{index}"),
        event_type: "thing_changed".to_owned(),
        payload: vec![writer as u8, index as u8],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn follower_sees_every_committed_event_once_in_order_despite_out_of_order_commits() {
    on_every_database(|database| async move {
        const WRITERS: usize = 12;
        const EVENTS_PER_WRITER: usize = 150;
        let connections = if database.backend == "sqlite" { 4 } else { 16 };
        let connection = open(&database, connections).await;
        let feed = Feed::start(connection.clone()).await.expect("feed starts");
        let mut follower = feed.watch(0);

        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let (connection, feed) = (connection.clone(), feed.clone());
            writers.push(tokio::spawn(async move {
                let mut committed = Vec::new();
                for index in 0..EVENTS_PER_WRITER {
                    let transaction = connection.begin().await.expect("begin");
                    feed::append(&transaction, event(writer, index)).await.expect("append");
                    // Hold some transactions open so that later ids commit first.
                    if (writer + index) % 7 == 0 {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    if index % 10 == 9 {
                        transaction.rollback().await.expect("rollback");
                    } else {
                        transaction.commit().await.expect("commit");
                        committed.push(format!("{writer}-{index}"));
                    }
                    feed.appended();
                }
                committed
            }));
        }
        let mut expected = HashSet::new();
        for writer in writers {
            expected.extend(writer.await.expect("writer finished"));
        }

        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while seen.len() < expected.len() {
            let item = tokio::time::timeout_at(deadline, follower.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("{}: follower saw {} of {} events", database.backend, seen.len(), expected.len())
                })
                .expect("stream open")
                .expect("no database error");
            if let FeedItem::Event(event) = item {
                assert_eq!(event.sequence, seen.len() as i64 + 1, "{}: dense, in order", database.backend);
                seen.push(event.request_id);
            }
        }
        let unique: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{}: no event twice", database.backend);
        assert_eq!(unique, expected, "{}: exactly the committed events", database.backend);
        assert_eq!(feed.head(), expected.len() as i64);
    })
    .await;
}

#[tokio::test]
async fn a_follower_resumes_after_its_cursor_and_hears_heartbeats_when_idle() {
    on_every_database(|database| async move {
        let connection = open(&database, 1).await;
        let feed = Feed::start(connection.clone()).await.expect("feed starts");
        for index in 0..5 {
            feed::append(&connection, event(0, index)).await.expect("append");
        }
        // The background sequencer may have numbered some already; after this, all are.
        feed.sequence_now().await.expect("numbered");
        assert_eq!(feed.head(), 5);

        let mut follower = feed.watch(3);
        let mut items = Vec::new();
        while items.len() < 3 {
            items.push(follower.next().await.expect("open").expect("no error"));
        }
        match &items[..] {
            [FeedItem::Event(fourth), FeedItem::Event(fifth), FeedItem::Heartbeat { head, .. }] => {
                assert_eq!((fourth.sequence, fifth.sequence, *head), (4, 5, 5), "{}", database.backend);
                assert_eq!(fourth.request_id, "0-3");
            }
            other => panic!("{}: unexpected {other:?}", database.backend),
        }
    })
    .await;
}
