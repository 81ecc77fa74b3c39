//! Checkpoints of the SQLite store's write-ahead log, run off the writer's
//! path.
//!
//! In WAL mode a commit appends pages to the log; a *checkpoint* copies them
//! back into the database file and syncs it. By default SQLite runs one
//! inside the commit that takes the log past 1,000 pages, so every few
//! batches of an import (and, now and then, a web edit) waits for two
//! `fsync`s and a copy of megabytes. This module moves that work to a
//! connection of its own: the writer's WAL hook, which SQLite calls after
//! every commit with the log's length, only wakes the checkpointing task
//! once the log has grown by [`CHECKPOINT_BYTES`]. Readers and the writer
//! carry on while it runs (a passive checkpoint takes no lock they wait
//! for).
//!
//! Durability is unchanged: a commit is durable once its frames are in the
//! log, whether or not they have been copied back yet. So is the log's
//! bound: should the checkpointer fall behind, the writer checkpoints inline
//! once the log reaches [`INLINE_BYTES`], as SQLite itself would (except
//! during the end of a bulk load, which turns that off and checkpoints when
//! done).
//!
//! sqlx does not expose `sqlite3_wal_hook`, so this is the store's one use
//! of the C API, through the same `libsqlite3-sys` that sqlx links.

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Log size after which the checkpointer is woken: a few import batches'
/// worth, so pages rewritten by consecutive batches (the browse index) are
/// copied back once rather than once per batch.
const CHECKPOINT_BYTES: i64 = 16 << 20;
/// Log size at which the writer checkpoints inline after all.
const INLINE_BYTES: i64 = 256 << 20;

/// The checkpointing task of one store; stops when dropped.
pub(crate) struct WalCheckpoints {
    task: tokio::task::JoinHandle<()>,
    state: &'static HookState,
}

impl WalCheckpoints {
    /// Whether the writer checkpoints inline once the log passes
    /// [`INLINE_BYTES`] (on by default). The end of a bulk load turns it off:
    /// its few large transactions would each stop the writer for a copy of
    /// hundreds of megabytes that the checkpointer can make on the other
    /// core while the writer builds the next index.
    pub(crate) fn set_inline(&self, on: bool) {
        self.state.inline.store(on, Ordering::Relaxed);
    }
}

impl Drop for WalCheckpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the WAL hook reaches: the checkpointer's wake-up, and the sizes
/// above in pages (the hook is told the log's length in pages).
struct HookState {
    wake: Arc<Notify>,
    inline: AtomicBool,
    checkpoint_frames: c_int,
    inline_frames: c_int,
}

/// Called by SQLite after each commit on the writer, with the number of
/// pages now in the log.
unsafe extern "C" fn on_commit(arg: *mut c_void, db: *mut ffi::sqlite3, schema: *const c_char, frames: c_int) -> c_int {
    // SAFETY: `arg` is the `HookState` leaked in `install` for this
    // connection, never freed.
    let state = unsafe { &*(arg as *const HookState) };
    if frames >= state.inline_frames && state.inline.load(Ordering::Relaxed) {
        // SAFETY: what SQLite's own default hook does: a passive checkpoint
        // of the schema that committed, on the connection that committed.
        unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                db,
                schema,
                ffi::SQLITE_CHECKPOINT_PASSIVE,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    } else if frames >= state.checkpoint_frames {
        state.wake.notify_one();
    }
    ffi::SQLITE_OK
}

/// Replaces `writer`'s automatic checkpoints with the hook above, and
/// starts a task that checkpoints on `checkpointer` whenever it is woken.
pub(crate) async fn install(
    writer: &mut SqliteConnection,
    mut checkpointer: SqliteConnection,
) -> sqlx::Result<WalCheckpoints> {
    let wake = Arc::new(Notify::new());
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut *writer).await?;
    let frames = |bytes: i64| (bytes / page_size.max(512)) as c_int;
    // Leaked: SQLite may call the hook until sqlx closes the connection on
    // its worker thread, which can be after the store is gone. One small
    // allocation per store opened.
    let state: &'static HookState = Box::leak(Box::new(HookState {
        wake: wake.clone(),
        inline: AtomicBool::new(true),
        checkpoint_frames: frames(CHECKPOINT_BYTES),
        inline_frames: frames(INLINE_BYTES),
    }));
    let mut handle = writer.lock_handle().await?;
    // SAFETY: a valid open connection, locked for the call; the hook and its
    // argument live as long as the process.
    unsafe {
        ffi::sqlite3_wal_hook(
            handle.as_raw_handle().as_ptr(),
            Some(on_commit),
            state as *const HookState as *mut c_void,
        );
    }
    drop(handle);
    let task = tokio::spawn(async move {
        loop {
            wake.notified().await;
            // A checkpoint that cannot finish (a reader still on old pages)
            // copies what it can; the next wake-up carries on.
            let started = std::time::Instant::now();
            match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut checkpointer)
                .await
            {
                Ok((_, log, copied)) => tracing::debug!(log, copied, took = ?started.elapsed(), "WAL checkpoint"),
                Err(e) => tracing::warn!("background WAL checkpoint failed: {e}"),
            }
        }
    });
    Ok(WalCheckpoints { task, state })
}
