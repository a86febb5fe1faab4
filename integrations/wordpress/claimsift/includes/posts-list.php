<?php
/**
 * The posts list: the "Check claims" bulk action, the Claims column ("F 12 · A 5 · P 2", sortable by the
 * share of assessment + prescription) and the notices about the background queue.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'CLAIMSIFT_BULK_ACTION', 'claimsift_check' );
define( 'CLAIMSIFT_COLUMN', 'claimsift' );
define( 'CLAIMSIFT_ORDERBY', 'claimsift_share' );

/**
 * The post types whose lists get the action and the column (filter `claimsift_post_types`).
 *
 * @return string[]
 */
function claimsift_post_types() {
	return (array) apply_filters( 'claimsift_post_types', array( 'post', 'page' ) );
}

/**
 * Hooks the list screens of every handled post type.
 */
function claimsift_register_posts_list() {
	foreach ( claimsift_post_types() as $post_type ) {
		add_filter( "bulk_actions-edit-{$post_type}", 'claimsift_add_bulk_action' );
		add_filter( "handle_bulk_actions-edit-{$post_type}", 'claimsift_handle_bulk_action', 10, 3 );
		add_filter( "manage_{$post_type}_posts_columns", 'claimsift_add_column' );
		add_action( "manage_{$post_type}_posts_custom_column", 'claimsift_render_column', 10, 2 );
		add_filter( "manage_edit-{$post_type}_sortable_columns", 'claimsift_sortable_column' );
	}
	add_filter( 'posts_clauses', 'claimsift_sort_by_share', 10, 2 );
	add_action( 'admin_notices', 'claimsift_queue_notices' );
	add_action( 'admin_head-edit.php', 'claimsift_column_style' );
	add_filter( 'removable_query_args', 'claimsift_removable_query_args' );
}

/**
 * Adds "Check claims" to the bulk actions.
 *
 * @param array $actions Action => label.
 * @return array
 */
function claimsift_add_bulk_action( $actions ) {
	if ( current_user_can( 'edit_posts' ) ) {
		$actions[ CLAIMSIFT_BULK_ACTION ] = __( 'Check claims', 'claimsift' );
	}
	return $actions;
}

/**
 * Queues the selected posts the user may edit. WordPress has checked the bulk-posts nonce and the
 * edit_posts capability before this filter runs; both are checked again here, and each post on its own.
 *
 * @param string $sendback Where to redirect.
 * @param string $action   The chosen bulk action.
 * @param int[]  $post_ids The selected posts.
 * @return string
 */
function claimsift_handle_bulk_action( $sendback, $action, $post_ids ) {
	if ( CLAIMSIFT_BULK_ACTION !== $action ) {
		return $sendback;
	}
	check_admin_referer( 'bulk-posts' );
	if ( ! current_user_can( 'edit_posts' ) ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'claimsift' ), 403 );
	}
	$allowed = array();
	foreach ( array_map( 'intval', (array) $post_ids ) as $post_id ) {
		if ( current_user_can( 'edit_post', $post_id ) ) {
			$allowed[] = $post_id;
		}
	}
	claimsift_enqueue_posts( $allowed );
	return add_query_arg(
		array(
			'claimsift_queued'  => count( $allowed ),
			'claimsift_skipped' => count( (array) $post_ids ) - count( $allowed ),
		),
		$sendback
	);
}

/**
 * Adds the Claims column.
 *
 * @param array $columns Column => header.
 * @return array
 */
function claimsift_add_column( $columns ) {
	$columns[ CLAIMSIFT_COLUMN ] = __( 'Claims', 'claimsift' );
	return $columns;
}

/**
 * Makes the Claims column sortable.
 *
 * @param array $columns Column => orderby.
 * @return array
 */
function claimsift_sortable_column( $columns ) {
	$columns[ CLAIMSIFT_COLUMN ] = array( CLAIMSIFT_ORDERBY, true ); // first click: most opinion first
	return $columns;
}

/**
 * One cell: the stored counts (marked when stale), "Queued", or why the check failed.
 *
 * @param string $column  Column name.
 * @param int    $post_id Post ID.
 */
function claimsift_render_column( $column, $post_id ) {
	if ( CLAIMSIFT_COLUMN !== $column ) {
		return;
	}
	$post  = get_post( $post_id );
	$state = claimsift_post_state( $post );
	if ( null !== $state['result'] ) {
		$result = $state['result'];
		/* translators: 1: when, 2: model name, 3: model version. */
		$title = sprintf( __( 'Checked %1$s with %2$s %3$s', 'claimsift' ), $result['checked_at'], $result['model']['name'], $result['model']['version'] );
		printf( '<span class="claimsift-column-counts" title="%1$s">%2$s</span>', esc_attr( $title ), esc_html( claimsift_counts_summary( $result['counts'] ) ) );
		if ( $state['stale'] ) {
			printf( ' <span class="claimsift-column-stale" title="%1$s">%2$s</span>', esc_attr__( 'The post was edited after this check.', 'claimsift' ), esc_html__( 'stale', 'claimsift' ) );
		}
	}
	if ( $state['queued'] ) {
		printf( ' <span class="claimsift-column-queued">%s</span>', esc_html__( 'Queued', 'claimsift' ) );
	} elseif ( null !== $state['error'] ) {
		printf( ' <span class="claimsift-column-error">%s</span>', esc_html( $state['error'] ) );
	} elseif ( null === $state['result'] ) {
		echo '<span aria-hidden="true">—</span>';
	}
}

/**
 * "F 12 · A 5 · P 2": each label's initial and count.
 *
 * @param array $counts Label => count.
 * @return string
 */
function claimsift_counts_summary( array $counts ) {
	$parts = array();
	foreach ( $counts as $label => $count ) {
		$parts[] = strtoupper( substr( (string) $label, 0, 1 ) ) . ' ' . (int) $count;
	}
	return implode( ' · ', $parts );
}

/**
 * Sorts the list by the stored share of assessment + prescription; posts never checked sort as lowest.
 * A LEFT JOIN on exactly that meta key: a meta_query ORed with NOT EXISTS would join any meta row of an
 * unchecked post and sort by its value.
 *
 * @param array    $clauses The query's SQL clauses.
 * @param WP_Query $query   The query.
 * @return array
 */
function claimsift_sort_by_share( $clauses, $query ) {
	if ( ! is_admin() || ! $query->is_main_query() || CLAIMSIFT_ORDERBY !== $query->get( 'orderby' ) ) {
		return $clauses;
	}
	global $wpdb;
	$order              = 'ASC' === strtoupper( (string) $query->get( 'order' ) ) ? 'ASC' : 'DESC';
	$clauses['join']   .= $wpdb->prepare( " LEFT JOIN {$wpdb->postmeta} AS claimsift_share ON ( claimsift_share.post_id = {$wpdb->posts}.ID AND claimsift_share.meta_key = %s )", CLAIMSIFT_META_SHARE );
	$clauses['orderby'] = "CAST( claimsift_share.meta_value AS DECIMAL( 5, 4 ) ) {$order}, {$wpdb->posts}.ID {$order}";
	return $clauses;
}

/**
 * After the bulk action: how many posts were queued. While the queue fails: why, and when it retries.
 */
function claimsift_queue_notices() {
	$screen = get_current_screen();
	if ( ! $screen || 'edit' !== $screen->base || ! current_user_can( 'edit_posts' ) ) {
		return;
	}
	// phpcs:disable WordPress.Security.NonceVerification.Recommended -- display only, after a nonce-checked redirect.
	if ( isset( $_GET['claimsift_queued'] ) ) {
		$queued  = absint( $_GET['claimsift_queued'] );
		$skipped = isset( $_GET['claimsift_skipped'] ) ? absint( $_GET['claimsift_skipped'] ) : 0;
		/* translators: 1: number of posts, 2: posts per background run. */
		$message = sprintf( _n( '%1$d post queued for a claims check. Posts are checked in the background, %2$d at a time.', '%1$d posts queued for a claims check. Posts are checked in the background, %2$d at a time.', $queued, 'claimsift' ), $queued, CLAIMSIFT_BATCH_SIZE );
		if ( $skipped > 0 ) {
			/* translators: %d: number of posts. */
			$message .= ' ' . sprintf( _n( '%d post skipped: you may not edit it.', '%d posts skipped: you may not edit them.', $skipped, 'claimsift' ), $skipped );
		}
		printf( '<div class="notice notice-success is-dismissible claimsift-notice"><p>%s</p></div>', esc_html( $message ) );
	}
	// phpcs:enable
	$status = claimsift_queue_status();
	if ( $status['waiting'] > 0 && '' !== $status['last_error'] ) {
		/* translators: 1: number of posts, 2: the error, 3: time of the next try. */
		$message = sprintf( __( 'Claims check: %1$d posts wait. The last try failed: %2$s Next try: %3$s.', 'claimsift' ), $status['waiting'], $status['last_error'], wp_date( 'H:i:s', $status['next_retry'] ) );
		printf( '<div class="notice notice-warning claimsift-queue-error"><p>%s</p></div>', esc_html( $message ) );
	}
}

/**
 * Keeps the column narrow.
 */
function claimsift_column_style() {
	echo '<style>.column-claimsift{width:11em}.claimsift-column-stale,.claimsift-column-queued{font-style:italic;color:#646970}.claimsift-column-error{color:#b32d2e}</style>';
}

/**
 * The notice's query arguments are dropped from the address after display.
 *
 * @param string[] $args Removable query args.
 * @return string[]
 */
function claimsift_removable_query_args( $args ) {
	$args[] = 'claimsift_queued';
	$args[] = 'claimsift_skipped';
	return $args;
}
