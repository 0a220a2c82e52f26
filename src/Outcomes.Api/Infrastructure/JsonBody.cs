using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Why a JSON body does not bind, member by member. System.Text.Json stops at the first problem; a
/// client should learn all of them at once. So when binding fails, the body is read again as a
/// document and every member is checked against the request type: members the type does not have,
/// members given twice, values of the wrong type or format (an instant without its offset among
/// them), and required members that are missing or null. Rules that need more than the body (ranges
/// of a scale, the patient's enrolment) are checked once the body binds.
/// </summary>
public static class JsonBody
{
    public static ValidationErrors Diagnose(JsonElement root, Type type, JsonSerializerOptions options, IReadOnlySet<string>? ignored = null)
    {
        var errors = new ValidationErrors();
        DiagnoseValue(root, type, options, "", errors, ignored);
        return errors;
    }

    /// <summary>
    /// Reads <paramref name="root"/> as a <typeparamref name="T"/>, leaving out the members in
    /// <paramref name="ignored"/> (an import line's <c>type</c> and <c>patientId</c>); null with the
    /// errors when it does not bind.
    /// </summary>
    public static (T? Value, ValidationErrors Errors) Read<T>(JsonElement root, JsonSerializerOptions options, IReadOnlySet<string> ignored)
        where T : class
    {
        var errors = Diagnose(root, typeof(T), options, ignored);
        if (!errors.IsEmpty)
        {
            return (null, errors);
        }
        // Diagnose has refused every member T does not have but the ignored ones (and every member given
        // twice), so reading with unmapped members skipped leaves out exactly the ignored ones.
        return (root.Deserialize<T>(_skippingUnmapped.GetValue(options, SkippingUnmapped)), errors);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> _skippingUnmapped = [];

    private static JsonSerializerOptions SkippingUnmapped(JsonSerializerOptions options) =>
        new(options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    private static void DiagnoseValue(JsonElement value, Type type, JsonSerializerOptions options, string path, ValidationErrors errors,
        IReadOnlySet<string>? ignored = null)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var info = options.GetTypeInfo(target);
        if (value.ValueKind == JsonValueKind.Null)
        {
            return; // whether null is allowed is the required check's question, one level up
        }
        if (info.Kind == JsonTypeInfoKind.Object && target != typeof(string) && value.ValueKind == JsonValueKind.Object)
        {
            DiagnoseObject(value, info, options, path, errors, ignored);
            return;
        }
        if (info.Kind == JsonTypeInfoKind.Enumerable && info.ElementType is { } element && value.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                DiagnoseValue(item, element, options, $"{path}[{i++}]", errors);
            }
            return;
        }
        try
        {
            value.Deserialize(type, options);
        }
        catch (JsonException)
        {
            errors.Add(Field(path), Expected(target));
        }
    }

    private static void DiagnoseObject(JsonElement value, JsonTypeInfo info, JsonSerializerOptions options, string path, ValidationErrors errors,
        IReadOnlySet<string>? ignored)
    {
        var comparer = options.PropertyNameCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var properties = info.Properties.ToDictionary(p => p.Name, comparer);
        var seen = new HashSet<string>(comparer);
        foreach (var member in value.EnumerateObject())
        {
            var memberPath = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
            if (ignored?.Contains(member.Name) == true)
            {
                continue;
            }
            if (!seen.Add(member.Name))
            {
                errors.Add(memberPath, "is given more than once");
            }
            else if (!properties.TryGetValue(member.Name, out var property))
            {
                errors.Add(memberPath, "is not a member of this request");
            }
            else
            {
                DiagnoseValue(member.Value, property.PropertyType, options, memberPath, errors);
            }
        }
        foreach (var property in info.Properties.Where(IsRequired))
        {
            var present = value.EnumerateObject().FirstOrDefault(m => comparer.Equals(m.Name, property.Name));
            if (present.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                errors.Add(path.Length == 0 ? property.Name : $"{path}.{property.Name}", "is required");
            }
        }
    }

    private static bool IsRequired(JsonPropertyInfo property) =>
        property.IsRequired || property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true;

    private static string Field(string path) => path.Length == 0 ? "$" : path;

    /// <summary>What a value of <paramref name="type"/> looks like, in the contract's words.</summary>
    public static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            var codes = Enum.GetValues(type).Cast<object>().Select(v => JsonNamingPolicy.CamelCase.ConvertName(v.ToString()!));
            return $"must be one of: {string.Join(", ", codes)}";
        }
        return type switch
        {
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "must be a whole number (a JSON number, not a string)",
            _ when type == typeof(decimal) || type == typeof(double) => "must be a number (a JSON number, not a string)",
            _ when type == typeof(Guid) => "must be a UUID, e.g. 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            _ when type == typeof(DateTimeOffset) => "must be a date and time with its UTC offset, e.g. 2025-03-01T10:00:00+01:00 or 2025-03-01T09:00:00Z",
            _ when type == typeof(DateOnly) => "must be a date, e.g. 2025-03-01",
            _ when type == typeof(bool) => "must be true or false",
            _ when type == typeof(string) => "must be a string",
            _ => "has a value of the wrong type or format",
        };
    }
}

/// <summary>
/// Reads an instant only with its offset (<c>Z</c> or <c>±hh:mm</c>): a time without one would be
/// taken as UTC, and a patient answering at 23:30 in UTC−5 would land on the wrong day. Writes ISO 8601.
/// </summary>
public sealed partial class DateTimeOffsetWithOffsetConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("An instant is a string.");
        }
        var text = reader.GetString()!;
        if (!WithOffset().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value))
        {
            throw new JsonException("An instant needs a date, a time and a UTC offset.");
        }
        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);

    /// <summary>A date, a time and an offset; the OpenAPI document states the same pattern.</summary>
    public const string Pattern = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex WithOffset();
}

/// <summary>
/// Keeps a JSON request body readable a second time (in memory up to 30 KB, then in a temporary
/// file; bodies are at most 1 MiB), so that a body that does not bind can be diagnosed member by
/// member. The streamed import (NDJSON) is not buffered.
/// </summary>
public sealed class JsonBodyBuffering(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (http.Request.HasJsonContentType())
        {
            http.Request.EnableBuffering();
        }
        return next(http);
    }
}
