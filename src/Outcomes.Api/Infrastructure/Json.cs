using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outcomes.Api.Infrastructure;

public static class JsonSetup
{
    /// <summary>Enums travel as camelCase text codes, never as numbers; nesting is bounded.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MaxDepth = 32;
    }
}
