using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

public class DatabaseOptionsTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite, null, true)]
    [InlineData(DatabaseProvider.SqlServer, null, false)]
    [InlineData(DatabaseProvider.SqlServer, true, true)]
    [InlineData(DatabaseProvider.Sqlite, false, false)]
    public void MigrateOnStartup_DefaultsOnForSqliteOffForSqlServer(DatabaseProvider provider, bool? setting, bool expected) =>
        Assert.Equal(expected, new DatabaseOptions { Provider = provider, MigrateOnStartup = setting }.ShouldMigrateOnStartup);
}
