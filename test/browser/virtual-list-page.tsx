/** Bundled by test/web-virtual-list.test.ts: the app's VirtualList with 5,000 members, as in group info. */
import { render } from 'preact';
import { VirtualList } from '../../packages/web/src/ui/virtual-list.tsx';

const members = Array.from({ length: 5000 }, (_, i) => ({ id: `m${i + 1}`, name: `Member ${i + 1}` }));

render(
  <VirtualList
    items={members}
    rowHeight={52}
    label="Members"
    fitUpTo="600px"
    keyOf={(m) => m.id}
    render={(m) => <button type="button">{m.name}</button>}
  />,
  document.getElementById('app')!,
);
