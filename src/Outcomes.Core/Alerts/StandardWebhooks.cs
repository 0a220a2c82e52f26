using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Outcomes.Core.Alerts;

/// <summary>
/// Signing as the Standard Webhooks specification defines it (standardwebhooks.com): the secret is
/// <c>whsec_</c> + base64 of random bytes; the signature header is <c>v1,</c> + base64 of
/// HMAC-SHA256(secret bytes, "{webhook-id}.{webhook-timestamp}.{body}"), the timestamp in Unix seconds.
/// </summary>
public static class StandardWebhooks
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A new message id, the same for every attempt of one delivery.</summary>
    public static string NewMessageId() => "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signed = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{messageId}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}

/// <summary>
/// Retries with exponential backoff and jitter: about 2 s after the first failure (always within 5 s),
/// then three times longer each time up to 4 hours between attempts, each delay ±25% at random; no
/// attempt is made later than 24 hours after the delivery was created.
/// </summary>
public static class DeliveryBackoff
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);

    private static readonly TimeSpan _longest = TimeSpan.FromHours(4);

    /// <param name="failures">Attempts so far, all failed (at least 1).</param>
    /// <param name="jitter">A number in [0, 1).</param>
    public static TimeSpan Delay(int failures, double jitter)
    {
        var seconds = Math.Min(2 * Math.Pow(3, Math.Max(0, failures - 1)), _longest.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.75 + 0.5 * jitter));
    }

    /// <summary>When to try again, or null when the next try would fall after <see cref="GiveUpAfter"/>.</summary>
    public static DateTimeOffset? Next(DateTimeOffset created, DateTimeOffset now, int failures, double jitter)
    {
        var next = now + Delay(failures, jitter);
        return next - created > GiveUpAfter ? null : next;
    }
}

/// <summary>Addresses a webhook may not reach unless private networks are allowed: loopback, private, link-local and the like.</summary>
public static class NetworkAddresses
{
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] >= 64 && b[1] <= 127,   // 100.64.0.0/10, carrier-grade NAT
                169 => b[1] == 254,                  // link-local, cloud metadata
                172 => b[1] >= 16 && b[1] <= 31,
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0) || (b[1] == 0 && b[2] == 2),
                198 => b[1] == 18 || b[1] == 19,     // benchmarking
                _ => b[0] >= 224,                    // multicast and reserved
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC;            // fc00::/7, unique local
        }
        return true;
    }
}
