namespace Kinship.Models;

/// <summary>
/// Admission control for one provider: requests in flight (adaptive), requests per minute and tokens per minute.
/// Concurrency follows AIMD: a 429 halves the limit, each success adds <c>1/limit</c>, so a provider having a bad
/// day gets fewer requests and the run climbs back to <see cref="ProviderSettings.MaxConcurrency"/> when it recovers.
/// Per-minute budgets are token buckets refilled continuously; tokens are estimated before the call (request bytes / 4).
/// </summary>
internal sealed class ProviderLimiter
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _max;
    private readonly int _rpm;
    private readonly int _tpm;
    private readonly List<TaskCompletionSource> _waiters = [];
    private double _limit;
    private int _inFlight;
    private double _requests;
    private double _tokens;
    private long _refilled;

    public ProviderLimiter(ProviderSettings settings, TimeProvider time)
    {
        _time = time;
        _max = settings.MaxConcurrency;
        _rpm = settings.RequestsPerMinute;
        _tpm = settings.TokensPerMinute;
        _limit = _max;
        _requests = _rpm;
        _tokens = _tpm;
        _refilled = time.GetTimestamp();
    }

    /// <summary>Requests currently allowed in flight.</summary>
    public int Limit
    {
        get
        {
            lock (_gate)
                return (int)_limit;
        }
    }

    public int InFlight
    {
        get
        {
            lock (_gate)
                return _inFlight;
        }
    }

    public async ValueTask<Lease> AcquireAsync(long estimatedTokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource? slot = null;
            TimeSpan wait;
            lock (_gate)
            {
                Refill();
                // A request bigger than the whole minute's budget waits for a full bucket instead of forever.
                var tokens = _tpm == 0 ? 0 : Math.Min(estimatedTokens, _tpm);
                if (_inFlight >= (int)_limit)
                {
                    slot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _waiters.Add(slot);
                    wait = Timeout.InfiniteTimeSpan;
                }
                else if ((_rpm == 0 || _requests >= 1) && (_tpm == 0 || _tokens >= tokens))
                {
                    _inFlight++;
                    if (_rpm > 0)
                        _requests -= 1;
                    if (_tpm > 0)
                        _tokens -= tokens;
                    return new Lease(this);
                }
                else
                {
                    var forRequests = _rpm == 0 ? 0 : (1 - _requests) * 60 / _rpm;
                    var forTokens = _tpm == 0 ? 0 : (tokens - _tokens) * 60 / _tpm;
                    wait = TimeSpan.FromSeconds(Math.Max(0.001, Math.Max(forRequests, forTokens)));
                }
            }
            if (slot is not null)
                await slot.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            else
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Release(bool throttled)
    {
        List<TaskCompletionSource> wake;
        lock (_gate)
        {
            _inFlight--;
            _limit = throttled ? Math.Max(1, _limit / 2) : Math.Min(_max, _limit + 1 / _limit);
            wake = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var w in wake)
            w.TrySetResult();
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var minutes = _time.GetElapsedTime(_refilled, now).TotalMinutes;
        _refilled = now;
        if (_rpm > 0)
            _requests = Math.Min(_rpm, _requests + minutes * _rpm);
        if (_tpm > 0)
            _tokens = Math.Min(_tpm, _tokens + minutes * _tpm);
    }

    /// <summary>One admitted request; <see cref="Complete"/> tells the limiter how it went.</summary>
    public sealed class Lease(ProviderLimiter owner)
    {
        private int _done;

        public void Complete(bool throttled)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                owner.Release(throttled);
        }
    }
}
