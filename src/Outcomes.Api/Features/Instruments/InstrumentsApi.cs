using System.Collections.Concurrent;
using System.ComponentModel;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Instruments;

namespace Outcomes.Api.Features.Instruments;

public sealed class InstrumentSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string All { get; } = "SELECT definition FROM instrument ORDER BY code, version;";

    public string One { get; } = "SELECT definition FROM instrument WHERE code = @Code AND version = @Version;";

    public string Insert { get; } = dialect.InsertReturningId(
        "instrument", "code, version, name, definition, created_at, created_by",
        "@Code, @Version, @Name, @Definition, @CreatedAt, @CreatedBy");
}

/// <summary>
/// Instrument definitions by code and version. A stored definition never changes (the table is
/// append-only), so a definition once read is cached for the life of the process.
/// </summary>
public sealed class InstrumentCatalog(Database db, InstrumentSql sql)
{
    private readonly ConcurrentDictionary<(string Code, string Version), InstrumentDefinition> _cache = new();

    public async Task<InstrumentDefinition?> FindAsync(string code, string version, CancellationToken ct)
    {
        if (_cache.TryGetValue((code, version), out var cached))
        {
            return cached;
        }
        await using var connection = await db.OpenAsync(ct);
        var json = await connection.QuerySingleOrDefaultAsync<string>(db.Command(sql.One, new { Code = code, Version = version }, ct));
        if (json is null)
        {
            return null;
        }
        var definition = InstrumentJson.Deserialize(json);
        _cache[(code, version)] = definition;
        return definition;
    }

    /// <summary>Every instrument version, by code and version (read each time: an admin may have added one).</summary>
    public async Task<IReadOnlyList<InstrumentDefinition>> AllAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<string>(db.Command(sql.All, null, ct));
        return [.. rows.Select(InstrumentJson.Deserialize)];
    }
}

public static class InstrumentsApi
{
    public static RouteGroupBuilder MapInstruments(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/instruments").WithTags("Instruments");

        group.MapGet("", ListInstruments)
            .RequireAuthorization(Policies.AnyRole)
            .WithName("ListInstruments")
            .WithSummary("Questionnaires and scales, every stored version")
            .WithDescription("Any role. Item codes, allowed answers, scoring rule, missing-item rule, direction, minimal important change and LOINC codes; no licensed item wording.");

        group.MapGet("/{code}/{version}", GetInstrument)
            .RequireAuthorization(Policies.AnyRole)
            .WithName("GetInstrument")
            .WithSummary("One version of an instrument")
            .WithDescription("Any role.");

        group.MapPost("", CreateInstrument)
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateInstrument")
            .WithSummary("Add an instrument, or a new version of one")
            .WithDescription("Admins only. A stored version never changes; to change a definition, add a new version.");

        return group;
    }

    public static async Task<Ok<IReadOnlyList<InstrumentDefinition>>> ListInstruments(InstrumentCatalog instruments, CancellationToken ct) =>
        TypedResults.Ok(await instruments.AllAsync(ct));

    public static async Task<Results<Ok<InstrumentDefinition>, NotFoundProblem>> GetInstrument(
        [Description("Instrument code, e.g. ndi.")] string code,
        [Description("Version, e.g. 1.")] string version,
        InstrumentCatalog catalog, CancellationToken ct) =>
        await catalog.FindAsync(code, version, ct) is { } definition
            ? TypedResults.Ok(definition)
            : Problems.NotFound("instrument version");

    public static async Task<Results<Created<InstrumentDefinition>, ValidationProblem, ConflictProblem>> CreateInstrument(
        InstrumentDefinition definition, Database db, InstrumentSql sql, AuditLog audit, TimeProvider clock, HttpContext http,
        CancellationToken ct)
    {
        var errors = Scoring.ValidateDefinition(definition);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
            {
                definition.Code,
                definition.Version,
                definition.Name,
                Definition = InstrumentJson.Serialize(definition),
                CreatedAt = clock.GetUtcNow(),
                CreatedBy = CurrentUser.From(http.User).Subject,
            }, ct, tx));
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            return Problems.Conflict($"{definition.Code} version {definition.Version} exists and never changes; add a new version.");
        }
        await audit.AppendAsync(connection, AuditActions.Create, "instrument", id, null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/instruments/{definition.Code}/{definition.Version}", definition);
    }
}
