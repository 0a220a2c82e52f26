using Outcomes.Core.Validation;

namespace Outcomes.Core.Instruments;

/// <summary>One answer: a whole number for a range item, or an option code for a categorical item.</summary>
public sealed record ItemAnswer(string? Item, int? Value = null, string? Option = null);

/// <summary>The score of a valid response.</summary>
/// <param name="Score">The instrument's score (for NDI/ODI the percentage), rounded to two decimals.</param>
/// <param name="RawSum">Sum of the answered items' values.</param>
/// <param name="AnsweredItems">How many items were answered.</param>
public sealed record ScoredResponse(decimal Score, decimal RawSum, int AnsweredItems);

/// <summary>
/// The one scoring engine: every instrument is scored from its definition, never from code of its
/// own. An invalid or incomplete response is rejected with the reason, never scored wrong.
/// </summary>
public static class Scoring
{
    /// <summary>
    /// Scores <paramref name="answers"/>; problems are added to <paramref name="errors"/> under
    /// <paramref name="field"/> (e.g. <c>answers[2].value</c>) and the result is null.
    /// </summary>
    public static ScoredResponse? Score(
        InstrumentDefinition instrument, IReadOnlyList<ItemAnswer?> answers, ValidationErrors errors, string field = "answers")
    {
        var before = errors.ToDictionary().Count;
        var items = instrument.Items.ToDictionary(i => i.Code, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var values = new List<(InstrumentItem Item, decimal Value)>();

        for (var i = 0; i < answers.Count; i++)
        {
            var at = $"{field}[{i}]";
            var answer = answers[i];
            if (answer is null)
            {
                errors.Add(at, "is required");
                continue;
            }
            if (!errors.Required(answer.Item, $"{at}.item"))
            {
                continue;
            }
            if (!items.TryGetValue(answer.Item!, out var item))
            {
                errors.Add($"{at}.item", $"'{answer.Item}' is not an item of {instrument.Code} {instrument.Version}");
                continue;
            }
            if (!seen.Add(item.Code))
            {
                errors.Add($"{at}.item", $"'{item.Code}' is answered more than once");
                continue;
            }
            if (item.IsCategorical)
            {
                if (answer.Value is not null)
                {
                    errors.Add($"{at}.value", $"item '{item.Code}' takes an option code, not a number");
                }
                else if (!errors.Required(answer.Option, $"{at}.option"))
                {
                    continue;
                }
                else if (item.Options!.FirstOrDefault(o => o.Code == answer.Option) is { } option)
                {
                    values.Add((item, option.Value));
                }
                else
                {
                    errors.Add($"{at}.option",
                        $"must be one of {string.Join(", ", item.Options!.Select(o => o.Code))}");
                }
            }
            else
            {
                if (answer.Option is not null)
                {
                    errors.Add($"{at}.option", $"item '{item.Code}' takes a whole number, not an option code");
                }
                else if (!errors.Required(answer.Value, $"{at}.value"))
                {
                    continue;
                }
                else if (answer.Value < item.Min || answer.Value > item.Max)
                {
                    errors.Add($"{at}.value", $"must be a whole number from {item.Min} to {item.Max}");
                }
                else
                {
                    values.Add((item, answer.Value!.Value));
                }
            }
        }

        if (errors.ToDictionary().Count > before)
        {
            return null;
        }
        if (values.Count < instrument.MinAnsweredItems)
        {
            errors.Add(field, instrument.MinAnsweredItems == instrument.Items.Count
                ? $"{instrument.Code} needs every one of its {instrument.Items.Count} items answered"
                : $"{instrument.Code} needs at least {instrument.MinAnsweredItems} of its {instrument.Items.Count} items answered; {values.Count} were");
            return null;
        }

        var sum = values.Sum(v => v.Value);
        var score = instrument.Scoring switch
        {
            ScoringRule.PercentOfAnswered => sum / values.Sum(v => v.Item.MaxValue) * 100m,
            _ => sum,
        };
        return new ScoredResponse(decimal.Round(score, 2, MidpointRounding.AwayFromZero), sum, values.Count);
    }

    /// <summary>Checks that a definition is usable before it is stored.</summary>
    public static ValidationErrors ValidateDefinition(InstrumentDefinition d)
    {
        var errors = new ValidationErrors();
        errors.Check(IsCode(d.Code), "code", "must be lower-case letters, digits and underscores, starting with a letter");
        errors.Check(!string.IsNullOrWhiteSpace(d.Version) && d.Version.Length <= 16, "version", "is required (at most 16 characters)");
        errors.Check(!string.IsNullOrWhiteSpace(d.Name) && d.Name.Length <= 200, "name", "is required (at most 200 characters)");
        if (!errors.Check(d.Items is { Count: > 0 and <= 200 }, "items", "must list between 1 and 200 items"))
        {
            return errors;
        }
        var codes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < d.Items.Count; i++)
        {
            var item = d.Items[i];
            var at = $"items[{i}]";
            if (item is null)
            {
                errors.Add(at, "is required");
                continue;
            }
            errors.Check(IsCode(item.Code) && codes.Add(item.Code), $"{at}.code", "must be a unique code");
            if (item.IsCategorical)
            {
                errors.Check(item.Min is null && item.Max is null, at, "has either options or a range, not both");
                errors.Check(item.Options!.Select(o => o.Code).Distinct(StringComparer.Ordinal).Count() == item.Options!.Count
                    && item.Options.All(o => IsCode(o.Code)), $"{at}.options", "must have unique option codes");
            }
            else
            {
                errors.Check(item.Min is not null && item.Max is not null && item.Min < item.Max, at,
                    "needs either options or a whole-number range with min < max");
            }
        }
        errors.Check(d.MinAnsweredItems >= 1 && d.MinAnsweredItems <= d.Items.Count, "minAnsweredItems",
            "must be between 1 and the number of items");
        errors.Check(d.ScoreMin < d.ScoreMax, "scoreMax", "must be greater than scoreMin");
        errors.Check(d.MinimalImportantChange is null or > 0, "minimalImportantChange", "must be positive");
        errors.Check(d.MinimalImportantChangePercent is null or > 0 and <= 100, "minimalImportantChangePercent",
            "must be between 0 and 100");
        errors.Check(d.ResponderMaxScore is null || (d.ResponderMaxScore >= d.ScoreMin && d.ResponderMaxScore <= d.ScoreMax),
            "responderMaxScore", "must lie within the score range");
        if (d.Scoring == ScoringRule.PercentOfAnswered)
        {
            errors.Check(d.Items.All(i => i is not null && i.MaxValue > 0), "scoring",
                "percentOfAnswered needs every item to have a positive maximum");
        }
        return errors;
    }

    private static bool IsCode(string? code) =>
        code is { Length: > 0 and <= 64 } && char.IsAsciiLetterLower(code[0])
        && code.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}
