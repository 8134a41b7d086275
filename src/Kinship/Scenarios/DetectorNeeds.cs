using System.Collections.Immutable;

namespace Kinship.Scenarios;

/// <summary>What a detector a scenario lists needs of the scenario: settings it must give, a config file, a graded dataset.</summary>
internal sealed record DetectorNeeds
{
    public ImmutableArray<DetectorSetting> Settings { get; init; } = [];

    public bool Config { get; init; }

    public bool Dataset { get; init; }
}

/// <summary>A setting a detector needs, and what it means.</summary>
internal sealed record DetectorSetting(string Name, string Meaning);
