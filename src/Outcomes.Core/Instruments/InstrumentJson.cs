using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outcomes.Core.Instruments;

/// <summary>The stored form of an instrument definition, and the definitions Outcomes ships.</summary>
public static class InstrumentJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize(InstrumentDefinition definition) => JsonSerializer.Serialize(definition, Options);

    public static InstrumentDefinition Deserialize(string json) =>
        JsonSerializer.Deserialize<InstrumentDefinition>(json, Options)
        ?? throw new JsonException("An instrument definition is null.");

    /// <summary>Pain NRS, pain VAS, PGIC, NDI, ODI v2.1a, HIT-6 and headache days, from the JSON files in Shipped/.</summary>
    public static IReadOnlyList<InstrumentDefinition> Shipped { get; } = LoadShipped();

    private static InstrumentDefinition[] LoadShipped()
    {
        var assembly = typeof(InstrumentJson).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("instruments.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return Deserialize(reader.ReadToEnd());
            })];
    }
}
