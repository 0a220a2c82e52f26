using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Instruments;

/// <summary>The clinic's licensed wording of an instrument version: what patients are shown instead of item codes.</summary>
/// <param name="Title">Shown above the items, e.g. the instrument's instructions; optional, at most 1,000 characters.</param>
/// <param name="Items">Item code → its question as the licence gives it, at most 500 characters each; every code an item of the version.</param>
public sealed record InstrumentWordingRequest(string? Title, [property: Required] IReadOnlyDictionary<string, string>? Items);

/// <param name="AddedAt">When this wording was added; an earlier one stays on record, this one is shown.</param>
public sealed record InstrumentWordingResponse(string Code, string Version, string? Title, IReadOnlyDictionary<string, string> Items, DateTimeOffset AddedAt, string AddedBy);

public sealed class WordingSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Latest { get; } = $"""
        SELECT code, version, wording, created_at, created_by FROM instrument_wording
        WHERE code = @Code AND version = @Version
        ORDER BY id DESC
        {dialect.Limit("@Take")};
        """;

    public string Insert { get; } = """
        INSERT INTO instrument_wording (code, version, wording, created_at, created_by) VALUES (@Code, @Version, @Wording, @CreatedAt, @CreatedBy);
        """;
}

internal sealed class WordingRow
{
    public string Code { get; init; } = "";
    public string Version { get; init; } = "";
    public string Wording { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
}

internal sealed record StoredWording(string? Title, Dictionary<string, string> Items);

public static class WordingApi
{
    private const int MaxItem = 500;
    private const int MaxTitle = 1000;

    public static void MapInstrumentWording(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/instruments/{code}/{version}/wording").WithTags("Instruments");
        group.MapGet("", GetWording)
            .RequireAuthorization(Policies.AnyRole)
            .WithName("GetInstrumentWording")
            .WithSummary("The clinic's licensed wording of an instrument version")
            .WithDescription("Any role. 404 while no admin has added one: clients then show item codes, and patients answer from the clinic's paper copy.");
        group.MapPut("", PutWording)
            .RequireAuthorization(Policies.Admin)
            .WithName("PutInstrumentWording")
            .WithSummary("Add the clinic's licensed wording to an instrument version")
            .WithDescription("Admins only, under the clinic's licence for the instrument. Replaces what patients are shown; earlier wording stays on record. Audited.");
    }

    public static async Task<Results<Ok<InstrumentWordingResponse>, NotFoundProblem>> GetWording(
        [Description("Instrument code, e.g. ndi.")] string code, [Description("Version, e.g. 1.")] string version,
        Database db, WordingSql sql, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<WordingRow>(db.Command(sql.Latest, new { Code = code, Version = version, Take = 1 }, ct));
        return row is null ? Problems.NotFound("wording") : TypedResults.Ok(ToResponse(row));
    }

    public static async Task<Results<Ok<InstrumentWordingResponse>, ValidationProblem, NotFoundProblem>> PutWording(
        [Description("Instrument code, e.g. ndi.")] string code, [Description("Version, e.g. 1.")] string version,
        InstrumentWordingRequest request, InstrumentCatalog instruments, Database db, WordingSql sql, AuditLog audit, GroupCommit commits,
        TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (await instruments.FindAsync(code, version, ct) is not { } definition)
        {
            return Problems.NotFound("instrument version");
        }
        var errors = new ValidationErrors();
        if (request.Title is not null)
        {
            errors.Text(request.Title, "title", MaxTitle);
        }
        if (errors.Required(request.Items, "items"))
        {
            var known = definition.Items.Select(i => i.Code).ToHashSet(StringComparer.Ordinal);
            errors.Check(request.Items!.Count > 0, "items", "must give the wording of at least one item");
            foreach (var (item, text) in request.Items!)
            {
                errors.Check(known.Contains(item), $"items.{item}", $"is not an item of {code} {version}");
                errors.Text(text, $"items.{item}", MaxItem);
            }
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var row = new WordingRow
        {
            Code = code,
            Version = version,
            Wording = JsonSerializer.Serialize(new StoredWording(request.Title, new Dictionary<string, string>(request.Items!, StringComparer.Ordinal))),
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = CurrentUser.From(http.User).Subject,
        };
        await commits.RunAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(db.Command(sql.Insert, row, CancellationToken.None, tx));
            await audit.InsertAsync(c, tx, audit.Entry("add_wording", "instrument", $"{code}/{version}", null), CancellationToken.None);
            return 1;
        }, ct);
        return TypedResults.Ok(ToResponse(row));
    }

    private static InstrumentWordingResponse ToResponse(WordingRow row)
    {
        var stored = JsonSerializer.Deserialize<StoredWording>(row.Wording)!;
        return new InstrumentWordingResponse(row.Code, row.Version, stored.Title, stored.Items, row.CreatedAt, row.CreatedBy);
    }
}
