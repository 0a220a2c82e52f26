using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;

namespace Outcomes.Api.Data;

/// <summary>
/// Group commit for SQLite: small writes from concurrent requests share one transaction, and so one
/// sync to disk, instead of one each. A caller queues its write; if no caller is committing, it
/// becomes the leader: it takes the write turn (<see cref="Database.EnterWriteAsync(TimeSpan, CancellationToken)"/>) and runs
/// every queued write, each inside its own savepoint (a write that fails is rolled back alone and
/// its caller gets the error), commits once, and only then answers each caller: nothing is
/// acknowledged before it is durable. The others wait for their answer only, not for the turn, so a
/// batch costs one turn instead of one per write. With one request at a time a batch holds one
/// write, as before. SQL Server commits each write in its own transaction: its log already groups
/// commits.
/// </summary>
/// <remarks>
/// A write runs on the connection of whichever caller (or, once that caller's own write is done, a
/// background leader) commits the batch: it must use only what it captured and the connection and
/// transaction it is given, never the current <see cref="HttpContext"/>.
/// </remarks>
public sealed class GroupCommit(Database db)
{
    /// <summary>Most writes in one transaction, so that one batch never holds the turn for long.</summary>
    public const int MaxBatch = 64;

    private readonly ConcurrentQueue<IPendingWrite> _pending = new();

    /// <summary>1 while a caller is committing batches (the leader), else 0.</summary>
    private int _leading;

    /// <summary>True when writes are batched (SQLite).</summary>
    public bool Batches => db.Dialect.Provider == DatabaseProvider.Sqlite;

    /// <summary>Runs <paramref name="write"/> in a transaction and returns its result once that transaction is committed.</summary>
    public async Task<T> RunAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write, CancellationToken ct)
    {
        if (!Batches)
        {
            await using var connection = await db.OpenAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var result = await write(connection, tx);
            await tx.CommitAsync(ct);
            return result;
        }

        var pending = new PendingWrite<T>(write, db.DeadlineFrom(Stopwatch.GetTimestamp()));
        _pending.Enqueue(pending);
        await LeadWhileQueuedAsync(pending.Done);
        // If this caller gives up waiting (cancellation), its write stays queued and a batch still
        // runs it; submissions carry ids, so a retry finds it instead of writing it twice.
        return await pending.Done.WaitAsync(ct);
    }

    /// <summary>
    /// Leads when nobody does: commits batches until <paramref name="own"/> is committed (or, with
    /// none, until the queue is empty). A caller that finds a leader leaves its write to it. A leader
    /// re-checks the queue after it steps down (both steps are full fences), so no write is stranded:
    /// either its caller saw no leader and leads, or the leader sees it. A caller whose own write is
    /// done goes back to its request and hands what is still queued to a leader of its own.
    /// </summary>
    private async Task LeadWhileQueuedAsync(Task? own)
    {
        while (!_pending.IsEmpty && Interlocked.CompareExchange(ref _leading, 1, 0) == 0)
        {
            try
            {
                await LeadAsync(own);
            }
            finally
            {
                Interlocked.Exchange(ref _leading, 0);
            }
            if (own is { IsCompleted: true })
            {
                if (!_pending.IsEmpty)
                {
                    // Not in this request's context: the writes need nothing of it, and it is about to end.
                    using (ExecutionContext.SuppressFlow())
                    {
                        _ = Task.Run(() => LeadWhileQueuedAsync(null));
                    }
                }
                return;
            }
        }
    }

    /// <summary>Takes the write turn and commits batches until <paramref name="own"/> is committed, or the queue is empty.</summary>
    private async Task LeadAsync(Task? own)
    {
        WriteTurn turn;
        try
        {
            // The batch belongs to every caller in it: no single request's cancellation stops it.
            // The oldest queued write has the least time left; no turn within it refuses the queue.
            var at = Stopwatch.GetTimestamp();
            var (wait, deadline) = _pending.TryPeek(out var oldest)
                ? (Remaining(oldest, at), oldest.Deadline)
                : (db.CommandTimeout, db.DeadlineFrom(at));
            db.OnWaitGranted?.Invoke(new GrantedWait(GrantedWait.Turn, at, wait, deadline));
            turn = await db.EnterWriteAsync(wait, CancellationToken.None);
        }
        catch (Exception e)
        {
            // No turn within the command timeout: nothing was written, and every queued caller hears so.
            while (_pending.TryDequeue(out var stranded))
            {
                stranded.Failed = e;
                stranded.Publish();
            }
            return;
        }
        using (turn)
        {
            while (!_pending.IsEmpty && own is not { IsCompleted: true })
            {
                await RunBatchAsync();
            }
        }
    }

    private async Task RunBatchAsync()
    {
        var batch = new List<IPendingWrite>(Math.Min(_pending.Count, MaxBatch));
        while (batch.Count < MaxBatch && _pending.TryDequeue(out var next))
        {
            batch.Add(next);
        }
        // A write whose time is up is refused before it starts, as if it had waited for a busy
        // database: each caller hears within its command timeout, however many queued before it.
        foreach (var expired in batch.Where(w => Remaining(w, Stopwatch.GetTimestamp()) <= TimeSpan.Zero))
        {
            expired.Failed = Database.WriterTimedOut();
            expired.Publish();
        }
        batch.RemoveAll(w => w.Failed is not null);
        if (batch.Count == 0)
        {
            return;
        }
        try
        {
            await using var connection = await db.OpenAsync(CancellationToken.None);
            // Another process's lock is waited for only as long as the oldest write has left.
            var at = Stopwatch.GetTimestamp();
            var busyWait = batch.Min(w => Remaining(w, at));
            db.OnWaitGranted?.Invoke(new GrantedWait(GrantedWait.Lock, at, busyWait, batch.Min(w => w.Deadline)));
            Database.LimitBusyWait(connection, busyWait);
            await using var tx = await connection.BeginTransactionAsync(CancellationToken.None);
            if (batch.Count == 1)
            {
                // Alone in its transaction, a failed write is rolled back with it: no savepoint needed.
                await batch[0].RunAsync(connection, tx);
            }
            else
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var savepoint = $"w{i}";
                    await tx.SaveAsync(savepoint);
                    try
                    {
                        await batch[i].RunAsync(connection, tx);
                        await tx.ReleaseAsync(savepoint);
                    }
                    catch (Exception e)
                    {
                        await tx.RollbackAsync(savepoint);
                        await tx.ReleaseAsync(savepoint);
                        batch[i].Failed = e;
                    }
                }
            }
            await tx.CommitAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing of the batch was committed: every caller hears of it.
            foreach (var write in batch)
            {
                write.Failed = e;
                write.Publish();
            }
            return;
        }
        foreach (var write in batch)
        {
            write.Publish();
        }
    }

    private static TimeSpan Remaining(IPendingWrite write, long now) => Stopwatch.GetElapsedTime(now, write.Deadline);

    private interface IPendingWrite
    {
        /// <summary>When the caller's command timeout runs out (a <see cref="Stopwatch"/> timestamp).</summary>
        long Deadline { get; }

        Exception? Failed { get; set; }

        Task RunAsync(DbConnection connection, DbTransaction tx);

        /// <summary>Answers the caller: the result, or the error.</summary>
        void Publish();
    }

    private sealed class PendingWrite<T>(Func<DbConnection, DbTransaction, Task<T>> write, long deadline) : IPendingWrite
    {
        public long Deadline => deadline;

        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Done => _done.Task;

        public Exception? Failed { get; set; }

        public async Task RunAsync(DbConnection connection, DbTransaction tx) => _result = await write(connection, tx);

        public void Publish()
        {
            if (Failed is { } e)
            {
                _done.TrySetException(e);
            }
            else
            {
                _done.TrySetResult(_result!);
            }
        }
    }
}
