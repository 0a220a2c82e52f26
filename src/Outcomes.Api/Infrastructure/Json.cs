using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outcomes.Api.Infrastructure;

public static class JsonSetup
{
    /// <summary>
    /// Enums travel as camelCase text codes, never as numbers; nesting is bounded. Input is read
    /// strictly: numbers are JSON numbers (not <c>"+5"</c>), a member the request does not have is
    /// refused rather than dropped, a member given twice is refused rather than the last winning,
    /// and an instant must carry its offset.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new DateTimeOffsetWithOffsetConverter());
        options.MaxDepth = 32;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
    }
}
