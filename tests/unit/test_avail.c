/* Which busy intervals show in a window. */
#include "school/avail.h"
#include "check.h"

TEST(crossing_an_edge_shows_touching_does_not)
{
	/* The window [100, 200). */
	CHECK(avail_overlaps(120, 150, 100, 200));  /* inside */
	CHECK(avail_overlaps(50, 150, 100, 200));   /* crosses the start */
	CHECK(avail_overlaps(150, 250, 100, 200));  /* crosses the end */
	CHECK(avail_overlaps(50, 250, 100, 200));   /* covers the window */
	CHECK(avail_overlaps(100, 200, 100, 200));  /* exactly the window */
	CHECK(!avail_overlaps(50, 100, 100, 200));  /* ends at the start */
	CHECK(!avail_overlaps(200, 250, 100, 200)); /* starts at the end */
	CHECK(!avail_overlaps(10, 20, 100, 200));   /* before */
	CHECK(!avail_overlaps(300, 400, 100, 200)); /* after */
	CHECK(avail_overlaps(199, 200, 100, 200));  /* its last second */
	CHECK(avail_overlaps(100, 101, 100, 200));  /* its first second */
}

int main(void)
{
	RUN(crossing_an_edge_shows_touching_does_not);
	return CHECK_DONE();
}
