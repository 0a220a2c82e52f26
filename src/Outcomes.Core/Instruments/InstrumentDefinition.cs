namespace Outcomes.Core.Instruments;

/// <summary>How an instrument's item values become its score.</summary>
public enum ScoringRule
{
    /// <summary>The sum of the item values (one item: its value). Every item must be answered
    /// unless <see cref="InstrumentDefinition.MinAnsweredItems"/> says otherwise.</summary>
    Sum,

    /// <summary>Sum of the answered items ÷ the most those answered items could score × 100
    /// (NDI, ODI): a missing item shrinks the denominator by its maximum.</summary>
    PercentOfAnswered,
}

/// <summary>Which way is better.</summary>
public enum Direction
{
    HigherIsWorse,
    HigherIsBetter,
}

/// <summary>An allowed answer of a categorical item, and the value it scores.</summary>
public sealed record AnswerOption(string Code, decimal Value);

/// <summary>
/// One item. Either a whole-number range (<see cref="Min"/>..<see cref="Max"/>) or a fixed set of
/// <see cref="Options"/>, each with its scoring value (e.g. HIT-6: never = 6 … always = 13).
/// </summary>
public sealed record InstrumentItem(string Code, int? Min = null, int? Max = null, IReadOnlyList<AnswerOption>? Options = null, string? Loinc = null)
{
    public bool IsCategorical => Options is { Count: > 0 };

    /// <summary>The most this item can score.</summary>
    public decimal MaxValue => IsCategorical ? Options!.Max(o => o.Value) : Max ?? 0;
}

/// <summary>
/// A questionnaire or scale as data: its items, allowed answers, scoring rule, how many items may
/// be missing, direction and minimal important change. Item codes and scoring only: licensed
/// item wording is never stored.
/// </summary>
/// <param name="Code">Stable code, e.g. <c>ndi</c>.</param>
/// <param name="Version">Version of this definition; answers always name the version they used.</param>
/// <param name="Name">Display name.</param>
/// <param name="Items">The items, in order.</param>
/// <param name="Scoring">Scoring rule.</param>
/// <param name="MinAnsweredItems">Fewest answered items that still give a valid score.</param>
/// <param name="Direction">Whether a higher score is worse or better.</param>
/// <param name="ScoreMin">Lowest possible score.</param>
/// <param name="ScoreMax">Highest possible score.</param>
/// <param name="MinimalImportantChange">Smallest change in score points that matters to patients, if established.</param>
/// <param name="MinimalImportantChangePercent">The same as a percentage of baseline, if established.</param>
/// <param name="LoincPanel">LOINC code of the panel, where one exists.</param>
/// <param name="LoincScore">LOINC code of the total score, where one exists.</param>
/// <param name="Source">Where the scoring rule and thresholds come from.</param>
/// <param name="ResponderMaxScore">For a global impression of change (PGIC): a score at or below this is a
/// response; such an instrument measures change itself, so no baseline applies.</param>
public sealed record InstrumentDefinition(
    string Code,
    string Version,
    string Name,
    IReadOnlyList<InstrumentItem> Items,
    ScoringRule Scoring,
    int MinAnsweredItems,
    Direction Direction,
    decimal ScoreMin,
    decimal ScoreMax,
    decimal? MinimalImportantChange = null,
    decimal? MinimalImportantChangePercent = null,
    string? LoincPanel = null,
    string? LoincScore = null,
    string? Source = null,
    decimal? ResponderMaxScore = null);
