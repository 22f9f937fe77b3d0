// Charts load on demand (uPlot, d3-geo and the map data stay out of the first load). Each has a
// placeholder of its final size, so nothing jumps when it arrives.
import { Suspense, lazy, type ComponentProps } from 'react';
import { Skeleton } from '../components/common';

const TimeChartImpl = lazy(() => import('./TimeChart'));
const WorldMapImpl = lazy(() => import('./WorldMap'));

export function TimeChart(props: ComponentProps<typeof TimeChartImpl>) {
  const height = props.height ?? 260;
  return (
    <Suspense fallback={<Skeleton height={`${height + 34}px`} />}>
      <TimeChartImpl {...props} />
    </Suspense>
  );
}

export function WorldMap(props: ComponentProps<typeof WorldMapImpl>) {
  return (
    <Suspense fallback={<div className="world-map skeleton" style={{ aspectRatio: '960 / 426' }} aria-hidden="true" />}>
      <WorldMapImpl {...props} />
    </Suspense>
  );
}
