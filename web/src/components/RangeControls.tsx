// Range (1 h / 24 h / 7 d / 30 d / custom), bucket size and the bot toggle of analytics views.
import { useState } from 'react';
import type { BotsMode, Interval } from '../api/types';
import { fromLocalInput, toLocalInput } from '../lib/format';
import { RANGE_PRESETS, intervalsFor, spanOf, type RangeState } from '../lib/range';

interface Props {
  range: RangeState;
  onRange: (range: RangeState) => void;
  bots: BotsMode;
  onBots: (bots: BotsMode) => void;
}

const INTERVAL_LABEL: Record<Interval, string> = { minute: 'Minute', hour: 'Hour', day: 'Day' };

export function RangeControls({ range, onRange, bots, onBots }: Props) {
  const [customOpen, setCustomOpen] = useState(range.key === 'custom');
  const [from, setFrom] = useState(() => toLocalInput(range.from ?? Date.now() - 7 * 86_400_000));
  const [to, setTo] = useState(() => (range.to ? toLocalInput(range.to) : ''));
  const [customError, setCustomError] = useState('');
  const intervals = intervalsFor(spanOf(range, Date.now()));

  const applyCustom = () => {
    const fromMs = fromLocalInput(from);
    const toMs = to ? fromLocalInput(to) : undefined;
    if (Number.isNaN(fromMs) || (toMs !== undefined && Number.isNaN(toMs))) return setCustomError('Enter valid dates.');
    if (toMs !== undefined && toMs <= fromMs) return setCustomError('The end must be after the start.');
    setCustomError('');
    const span = (toMs ?? Date.now()) - fromMs;
    const fit = intervalsFor(span);
    onRange({ key: 'custom', from: fromMs, to: toMs, interval: fit.includes('hour') ? 'hour' : fit[0] });
  };

  return (
    <div className="controls">
      <div className="segmented" role="group" aria-label="Time range">
        {RANGE_PRESETS.map((preset) => (
          <button
            key={preset.key}
            type="button"
            aria-pressed={range.key === preset.key}
            onClick={() => {
              setCustomOpen(false);
              onRange({ key: preset.key, interval: preset.interval });
            }}
          >
            {preset.label}
          </button>
        ))}
        <button type="button" aria-pressed={range.key === 'custom'} aria-expanded={customOpen} onClick={() => setCustomOpen((o) => !o)}>
          Custom
        </button>
      </div>
      <label className="inline-field">
        <span>Buckets</span>
        <select value={range.interval} onChange={(e) => onRange({ ...range, interval: e.target.value as Interval })}>
          {intervals.map((i) => (
            <option key={i} value={i}>
              {INTERVAL_LABEL[i]}
            </option>
          ))}
        </select>
      </label>
      <label className="toggle">
        <input
          type="checkbox"
          checked={bots === 'include'}
          onChange={(e) => onBots(e.target.checked ? 'include' : 'exclude')}
          data-testid="bots-toggle"
        />
        <span>Include bots</span>
      </label>
      {customOpen && (
        <div className="custom-range" role="group" aria-label="Custom range">
          <label className="inline-field">
            <span>From</span>
            <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label className="inline-field">
            <span>To</span>
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} placeholder="now" />
          </label>
          <button type="button" className="button small" onClick={applyCustom}>
            Apply
          </button>
          <span className="hint">Leave “To” empty for “until now” (live).</span>
          {customError && (
            <p className="inline-error" role="alert">
              {customError}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
