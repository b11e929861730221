import { NewestItems } from '../../core/newest-items';

describe('NewestItems', () => {
  it('keeps the items with the latest change, newest first, whatever order they arrive in', () => {
    const newest = new NewestItems<{ id: number; lastMs: number }>(3);
    // Arrival order unrelated to time (items come in key order): the newest arrive last.
    const times = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 12, 11];
    times.forEach((lastMs, id) => {
      newest.offer({ id, lastMs });
    });
    const { items, notListed } = newest.result();
    expect(items.map((i) => i.lastMs)).toEqual([12, 11, 10]);
    expect(notListed).toBe(times.length - 3);
  });

  it('keeps everything when fewer than the limit are offered', () => {
    const newest = new NewestItems<{ lastMs: number }>(200);
    for (let i = 0; i < 150; i++) newest.offer({ lastMs: (i * 37) % 150 });
    const { items, notListed } = newest.result();
    expect(items.length).toBe(150);
    expect(items[0]?.lastMs).toBe(149);
    expect(notListed).toBe(0);
  });
});
