using System.Buffers;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Outcomes.Api.Data;

namespace Outcomes.Api.Features.Observations;

/// <summary>
/// One command inserting observation rows one after another, its parameters set anew for each row, for
/// the bulk import: Microsoft.Data.Sqlite keeps a command's compiled statement (with the triggers it
/// fires) for as long as its text is unchanged, where a new command per row compiled it every time.
/// The parameters are bound as the Dapper type handlers bind them for the single-row paths (instants to
/// the millisecond, dates as <see cref="DbType.Date"/>, texts sized as Dapper sizes them), so a row is
/// stored the same by either path.
/// </summary>
internal sealed class ObservationInsert : IAsyncDisposable
{
    private static readonly (string Name, DbType Type, Func<ObservationRow, object?> Value)[] _parameters =
    [
        ("PatientId", DbType.Int64, r => r.PatientId),
        ("Kind", DbType.String, r => r.Kind),
        ("Code", DbType.String, r => r.Code),
        ("InstrumentVersion", DbType.String, r => r.InstrumentVersion),
        ("Value", DbType.Decimal, r => r.Value),
        ("Qualifier", DbType.String, r => r.Qualifier),
        ("BodySide", DbType.String, r => r.BodySide),
        ("OnsetOn", DbType.Date, r => r.OnsetOn),
        ("Serious", DbType.Boolean, r => r.Serious),
        ("Detail", DbType.String, r => r.Detail),
        ("AnsweredAt", DbType.DateTimeOffset, r => DapperTypeHandlers.ToMillisecond(r.AnsweredAt)),
        ("AnsweredOffsetMin", DbType.Int32, r => r.AnsweredOffsetMin),
        ("ReceivedAt", DbType.DateTimeOffset, r => DapperTypeHandlers.ToMillisecond(r.ReceivedAt)),
        ("SubmissionId", DbType.String, r => r.SubmissionId),
        ("PayloadHash", DbType.String, r => r.PayloadHash),
        ("RecordedBy", DbType.String, r => r.RecordedBy),
        ("RecordedRole", DbType.String, r => r.RecordedRole),
        ("SupersedesId", DbType.Int64, r => r.SupersedesId),
        ("RootId", DbType.Int64, r => r.RootId),
        ("EnteredInError", DbType.Boolean, r => r.EnteredInError),
        ("ChangeReason", DbType.String, r => r.ChangeReason),
    ];

    private readonly DbCommand _command;

    public ObservationInsert(DbConnection connection, DbTransaction transaction, string sql, int timeoutSeconds)
    {
        _command = connection.CreateCommand();
        _command.CommandText = sql;
        _command.Transaction = transaction;
        _command.CommandTimeout = timeoutSeconds;
        foreach (var (name, type, _) in _parameters)
        {
            var parameter = _command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.DbType = type;
            _command.Parameters.Add(parameter);
        }
    }

    /// <summary>Runs the insert for <paramref name="row"/>; returns the rows the statement itself wrote (0 or 1).</summary>
    public Task<int> ExecuteAsync(ObservationRow row, CancellationToken ct)
    {
        for (var i = 0; i < _parameters.Length; i++)
        {
            var parameter = _command.Parameters[i];
            var value = _parameters[i].Value(row);
            parameter.Value = value ?? DBNull.Value;
            if (value is string text)
            {
                // As Dapper does: one size for every text up to 4,000 characters, so SQL Server reuses one plan.
                parameter.Size = text.Length <= 4000 ? 4000 : -1;
            }
        }
        return _command.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();
}

/// <summary>What became of one record of a batch.</summary>
internal enum BatchOutcome
{
    /// <summary>Written now.</summary>
    Stored,

    /// <summary>Its submission was already stored with the same content (earlier, or earlier in the batch): nothing written.</summary>
    Duplicate,

    /// <summary>Its submission id was already used for different content: nothing written.</summary>
    Conflict,
}

/// <summary>
/// The bulk import's insert on SQLite: a whole batch in two statements instead of one per row. The
/// rows travel as one JSON array parameter, read back by <c>jsonb_each</c> in the database (its rows in
/// SQLite's binary JSON, so that reading each of a row's 21 values does not parse the row's text again). One
/// statement per row cost the import more in the provider (21 parameters looked up by name and bound
/// for each row) than in SQLite itself, and a multi-row <c>VALUES</c> list would need thousands of
/// named parameters, which the provider looks up one by one. Each value is written as the provider
/// binds it on the single-row paths (instants to the millisecond as
/// <c>yyyy-MM-dd HH:mm:ss.FFFFFFFzzz</c>, decimals and dates as text, booleans as 0 or 1), so a row
/// is stored the same by either path; the column affinities then apply as they do to a bound value.
/// SQL Server keeps <see cref="ObservationInsert"/>, one statement per row. Used by the import and the demo data.
/// </summary>
internal static class ObservationBatchInsert
{
    /// <summary>The stored submissions among the batch's (patient, submission id) pairs, with their content hashes.</summary>
    private const string StoredSubmissions = """
        SELECT o.patient_id, o.submission_id, o.payload_hash
        FROM jsonb_each(@Keys) k
        JOIN observation o ON o.patient_id = k.value ->> 0 AND o.submission_id = k.value ->> 1;
        """;

    // The same columns as ObservationSql.InsertIfAbsent, in the order each row's array gives them; in the
    // batch's order, so ids follow the file as they do row by row.
    private const string InsertRows = $"""
        INSERT INTO observation ({ObservationSql.InsertColumns})
        SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6,
               r.value ->> 7, r.value ->> 8, r.value ->> 9, r.value ->> 10, r.value ->> 11, r.value ->> 12, r.value ->> 13,
               r.value ->> 14, r.value ->> 15, r.value ->> 16, r.value ->> 17, r.value ->> 18, r.value ->> 19, r.value ->> 20
        FROM jsonb_each(@Rows) r
        ORDER BY r.key;
        """;

    private const string InstantFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFFzzz";

    /// <summary>
    /// Stores the rows whose submission is not stored yet, in one transaction the caller holds (with the
    /// write turn). Outcomes are decided in the batch's order, as one insert per row decides them: a
    /// submission seen before (stored, or earlier in the batch) is a duplicate when its content hash is the
    /// same, a conflict when not. SQLite: the batch in two statements; SQL Server: one insert per row.
    /// </summary>
    public static Task<BatchOutcome[]> InsertAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<ObservationRow> rows, Database db, ObservationSql sql, CancellationToken ct) =>
        db.Dialect.Provider == DatabaseProvider.Sqlite
            ? InsertInTwoStatementsAsync(connection, transaction, rows, db.CommandTimeoutSeconds, ct)
            : InsertRowByRowAsync(connection, transaction, rows, db, sql, ct);

    /// <summary>One prepared insert per row, each stored unless its submission already is.</summary>
    private static async Task<BatchOutcome[]> InsertRowByRowAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<ObservationRow> rows, Database db, ObservationSql sql, CancellationToken ct)
    {
        var outcomes = new BatchOutcome[rows.Count];
        await using var insert = new ObservationInsert(connection, transaction, sql.InsertIfAbsent, db.CommandTimeoutSeconds);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (await insert.ExecuteAsync(row, ct) == 1)
            {
                outcomes[i] = BatchOutcome.Stored;
                continue;
            }
            var existing = await connection.ExecuteScalarAsync<string>(db.Command(sql.HashOfSubmission,
                new { row.PatientId, row.SubmissionId }, ct, transaction));
            outcomes[i] = existing == row.PayloadHash ? BatchOutcome.Duplicate : BatchOutcome.Conflict;
        }
        return outcomes;
    }

    private static async Task<BatchOutcome[]> InsertInTwoStatementsAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<ObservationRow> rows, int timeoutSeconds, CancellationToken ct)
    {
        var outcomes = new BatchOutcome[rows.Count];
        var known = new Dictionary<(long PatientId, string SubmissionId), string>();
        await using (var command = Command(connection, transaction, StoredSubmissions, "@Keys", Keys(rows), timeoutSeconds))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                known[(reader.GetInt64(0), reader.GetString(1))] = reader.GetString(2);
            }
        }
        var fresh = new List<ObservationRow>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var key = (row.PatientId, row.SubmissionId);
            if (known.TryGetValue(key, out var hash))
            {
                outcomes[i] = hash == row.PayloadHash ? BatchOutcome.Duplicate : BatchOutcome.Conflict;
                continue;
            }
            known[key] = row.PayloadHash;
            fresh.Add(row);
            outcomes[i] = BatchOutcome.Stored;
        }
        if (fresh.Count > 0)
        {
            await using var insert = Command(connection, transaction, InsertRows, "@Rows", Rows(fresh), timeoutSeconds);
            var written = await insert.ExecuteNonQueryAsync(ct);
            if (written != fresh.Count)
            {
                // Cannot happen while the caller holds the write transaction; refuse the batch rather than miscount it.
                throw new InvalidOperationException($"The batch insert wrote {written} of {fresh.Count} rows.");
            }
        }
        return outcomes;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, string name, string json, int timeoutSeconds)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.CommandTimeout = timeoutSeconds;
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = DbType.String;
        parameter.Value = json;
        command.Parameters.Add(parameter);
        return command;
    }

    private static string Keys(IReadOnlyList<ObservationRow> rows) => Json(writer =>
    {
        foreach (var row in rows)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(row.PatientId);
            writer.WriteStringValue(row.SubmissionId);
            writer.WriteEndArray();
        }
    });

    private static string Rows(List<ObservationRow> rows) => Json(writer =>
    {
        foreach (var r in rows)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(r.PatientId);
            Text(writer, r.Kind);
            Text(writer, r.Code);
            Text(writer, r.InstrumentVersion);
            Text(writer, r.Value?.ToString(CultureInfo.InvariantCulture));
            Text(writer, r.Qualifier);
            Text(writer, r.BodySide);
            Text(writer, r.OnsetOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            writer.WriteNumberValue(r.Serious ? 1 : 0);
            Text(writer, r.Detail);
            Text(writer, Instant(r.AnsweredAt));
            writer.WriteNumberValue(r.AnsweredOffsetMin);
            Text(writer, Instant(r.ReceivedAt));
            Text(writer, r.SubmissionId);
            Text(writer, r.PayloadHash);
            Text(writer, r.RecordedBy);
            Text(writer, r.RecordedRole);
            Number(writer, r.SupersedesId);
            Number(writer, r.RootId);
            writer.WriteNumberValue(r.EnteredInError ? 1 : 0);
            Text(writer, r.ChangeReason);
            writer.WriteEndArray();
        }
    });

    private static string Instant(DateTimeOffset value) =>
        DapperTypeHandlers.ToMillisecond(value).ToString(InstantFormat, CultureInfo.InvariantCulture);

    private static void Text(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    private static void Number(Utf8JsonWriter writer, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static string Json(Action<Utf8JsonWriter> items)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            items(writer);
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
