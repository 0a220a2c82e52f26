using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Turns the framework's binding failures ("Failed to bind parameter "Nullable&lt;int&gt; Limit" from
/// "abc"") into the API's words: a validation problem that names each parameter as the client sent
/// it. The framework stops at the first parameter it cannot bind, so every query parameter of the
/// endpoint is checked here, and all that do not parse are named in one answer.
/// </summary>
public static partial class BindingProblems
{
    public static ValidationErrors Diagnose(BadHttpRequestException exception, HttpContext http, Endpoint? endpoint)
    {
        var errors = new ValidationErrors();
        foreach (var parameter in endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [])
        {
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            var sent = http.Request.Query.Keys.FirstOrDefault(k => string.Equals(k, parameter.Name, StringComparison.OrdinalIgnoreCase));
            if (sent is not null && !Parses(type, http.Request.Query[sent].ToString()))
            {
                errors.Add(sent, JsonBody.Expected(type));
            }
        }
        if (!errors.IsEmpty)
        {
            return errors;
        }
        if (RequiredParameter().Match(exception.Message) is { Success: true } required)
        {
            errors.Add(JsonNamingPolicy.CamelCase.ConvertName(required.Groups["name"].Value), "is required");
        }
        else if (exception.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
                 || exception.Message.StartsWith("Required parameter", StringComparison.Ordinal))
        {
            errors.Add("$", "a JSON body is required");
        }
        return errors;
    }

    private static bool Parses(Type type, string text)
    {
        var c = CultureInfo.InvariantCulture;
        return type switch
        {
            _ when type == typeof(int) => int.TryParse(text, NumberStyles.Integer, c, out _),
            _ when type == typeof(long) => long.TryParse(text, NumberStyles.Integer, c, out _),
            _ when type == typeof(decimal) => decimal.TryParse(text, NumberStyles.Number, c, out _),
            _ when type == typeof(double) => double.TryParse(text, NumberStyles.Float, c, out _),
            _ when type == typeof(bool) => bool.TryParse(text, out _),
            _ when type == typeof(Guid) => Guid.TryParse(text, out _),
            _ when type == typeof(DateOnly) => DateOnly.TryParse(text, c, out _),
            _ when type == typeof(DateTimeOffset) => DateTimeOffset.TryParse(text, c, out _),
            _ => true,
        };
    }

    [GeneratedRegex("""^Required parameter "\S+ (?<name>\w+)" was not provided from (query string|route|header)""")]
    private static partial Regex RequiredParameter();
}
