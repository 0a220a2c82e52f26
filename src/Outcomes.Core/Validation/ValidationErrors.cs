namespace Outcomes.Core.Validation;

/// <summary>
/// Collects every problem with a request, keyed by the JSON path of the offending field,
/// so a client learns all of them at once.
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            list = [];
            _errors[field] = list;
        }
        list.Add(message);
    }

    /// <summary>Adds <paramref name="message"/> when <paramref name="condition"/> is false.</summary>
    public bool Check(bool condition, string field, string message)
    {
        if (!condition)
        {
            Add(field, message);
        }
        return condition;
    }

    /// <summary>Reports a missing required value; true when the value is present.</summary>
    public bool Required<T>(T? value, string field)
    {
        var present = value switch
        {
            null => false,
            string s => !string.IsNullOrWhiteSpace(s),
            _ => true,
        };
        return Check(present, field, "is required");
    }

    /// <summary>
    /// Checks free text: at most <paramref name="maxLength"/> characters and no control characters
    /// (NUL, line breaks, escapes), which no name, reason or note needs and which corrupt logs,
    /// exports and screens. True when the text passes.
    /// </summary>
    public bool Text(string value, string field, int maxLength) =>
        Check(value.Length <= maxLength && !value.Any(char.IsControl), field,
            $"must be at most {maxLength} characters, without control characters");

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}
