package hmmemu.node.link;

/**
 * A link stage in front of another ({@code next}): the data link layer's settings, counts and reported losses are
 * the next stage's, so a stage overrides only {@link #send} (and what it adds). {@link #received} and
 * {@link #delivered} are not forwarded: the shell calls them on the outermost stage only. Not a kernel structure.
 */
public abstract class ForwardingLink implements Link {
  protected final Link next;

  protected ForwardingLink(Link next) {
    if (next == null) throw new IllegalArgumentException("a forwarding link stage needs the next stage");
    this.next = next;
  }

  @Override
  public LinkReliability reliability() { return next.reliability(); }

  @Override
  public void count(int fromNode, int toNode, LinkReliability.Event event, long n) { next.count(fromNode, toNode, event, n); }

  @Override
  public void lost(int fromNode, int toNode, long seq, String what) { next.lost(fromNode, toNode, seq, what); }
}
