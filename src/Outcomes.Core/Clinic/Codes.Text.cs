using System.Collections.Frozen;
using System.Text.Json;

namespace Outcomes.Core.Clinic;

/// <summary>
/// The text code of an enum value, as it appears in JSON and in the database: the member name in
/// camelCase (<c>onabotulinumtoxinA</c>, <c>myofascialPainSyndrome</c>, <c>emg</c>).
/// </summary>
public static class EnumCode<T> where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> _toCode =
        Enum.GetValues<T>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.CamelCase.ConvertName(v.ToString()));

    private static readonly FrozenDictionary<string, T> _fromCode =
        _toCode.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public static string Of(T value) => _toCode[value];

    public static T Parse(string code) =>
        _fromCode.TryGetValue(code, out var value)
            ? value
            : throw new FormatException($"'{code}' is not a {typeof(T).Name} code.");

    public static bool TryParse(string? code, out T value)
    {
        value = default;
        return code is not null && _fromCode.TryGetValue(code, out value);
    }

    public static IReadOnlyCollection<string> All => _fromCode.Keys;
}
