using Microsoft.Data.Sqlite;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>Tests that run the service as a process (<see cref="ServiceProcess"/>) on an SQLite file in a directory of their own, removed afterwards.</summary>
public abstract class ProcessTestBase : IDisposable
{
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("outcomes-process-").FullName;

    protected string Directory => _directory;

    protected string DatabasePath => Path.Combine(_directory, "outcomes.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A process that is still going may hold a file; the temporary directory is the system's to clear.
        }
        GC.SuppressFinalize(this);
    }
}
