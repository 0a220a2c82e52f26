using System.Data;
using System.Data.Common;

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
    private static DateTimeOffset ToMillisecond(DateTimeOffset value) => value.AddTicks(-(value.Ticks % TimeSpan.TicksPerMillisecond));

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
        ("AnsweredAt", DbType.DateTimeOffset, r => ToMillisecond(r.AnsweredAt)),
        ("AnsweredOffsetMin", DbType.Int32, r => r.AnsweredOffsetMin),
        ("ReceivedAt", DbType.DateTimeOffset, r => ToMillisecond(r.ReceivedAt)),
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
