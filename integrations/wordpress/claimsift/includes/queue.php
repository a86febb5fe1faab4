<?php
/**
 * The background check of existing posts: the bulk action queues posts, WP-Cron works through them a few
 * at a time, and each result is stored as post meta. The post content is only read.
 *
 * The queue is the _claimsift_queued post meta itself: a post leaves it only once its result (or a
 * permanent error) is stored, so a run that dies halfway (a PHP timeout, a killed worker) loses nothing;
 * the next run starts where it stopped. One run at a time: a MariaDB/MySQL named lock, which the server
 * releases by itself when the connection of a dead run closes. When the service fails (down, busy,
 * refusing the key) the run stops, the posts stay queued, and the queue is retried after
 * CLAIMSIFT_RETRY_DELAY seconds, doubling per consecutive failure up to CLAIMSIFT_RETRY_MAX_DELAY.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'CLAIMSIFT_QUEUE_HOOK', 'claimsift_process_queue' );
define( 'CLAIMSIFT_QUEUE_STATUS', 'claimsift_queue_status' );
// A run stops taking posts after this many seconds, well inside a web server's time limit.
define( 'CLAIMSIFT_RUN_SECONDS', 20 );
define( 'CLAIMSIFT_RUNS_KEPT', 10 );

/**
 * Queues posts for a background check and asks WP-Cron to start now.
 *
 * @param int[] $post_ids Posts the current user may edit.
 */
function claimsift_enqueue_posts( array $post_ids ) {
	foreach ( $post_ids as $post_id ) {
		// A post already queued keeps its place (add_post_meta with $unique).
		add_post_meta( $post_id, CLAIMSIFT_META_QUEUED, time(), true );
		delete_post_meta( $post_id, CLAIMSIFT_META_ERROR );
	}
	claimsift_schedule_queue( 0 );
}

/**
 * The next queued post IDs, oldest first.
 *
 * @param int $limit How many.
 * @return int[]
 */
function claimsift_queued_ids( $limit ) {
	global $wpdb;
	$ids = $wpdb->get_col(
		$wpdb->prepare(
			"SELECT post_id FROM {$wpdb->postmeta} WHERE meta_key = %s ORDER BY meta_value + 0, post_id LIMIT %d",
			CLAIMSIFT_META_QUEUED,
			$limit
		)
	);
	return array_map( 'intval', $ids );
}

/**
 * How many posts wait in the queue.
 *
 * @return int
 */
function claimsift_queue_length() {
	global $wpdb;
	return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->postmeta} WHERE meta_key = %s", CLAIMSIFT_META_QUEUED ) );
}

/**
 * (Re)schedules the one queue event, $delay seconds from now.
 *
 * @param int $delay Seconds.
 */
function claimsift_schedule_queue( $delay ) {
	wp_clear_scheduled_hook( CLAIMSIFT_QUEUE_HOOK );
	wp_schedule_single_event( time() + $delay, CLAIMSIFT_QUEUE_HOOK );
}

/**
 * Removes the queue event (deactivation); queued posts stay queued for a later activation.
 */
function claimsift_unschedule_queue() {
	wp_clear_scheduled_hook( CLAIMSIFT_QUEUE_HOOK );
}

/**
 * The WP-Cron callback: one batch, under the queue lock.
 */
function claimsift_process_queue() {
	global $wpdb;
	$lock = $wpdb->prefix . 'claimsift_queue';
	if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', $lock ) ) ) {
		return; // another run is working through the queue; it schedules the next one
	}
	try {
		claimsift_run_batch();
	} finally {
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	}
}

/**
 * Checks up to CLAIMSIFT_BATCH_SIZE queued posts, records the run, and schedules the next one.
 */
function claimsift_run_batch() {
	$started = microtime( true );
	$run     = array(
		'at'      => time(),
		'checked' => 0,
		'failed'  => 0,
	);
	$error   = null;
	foreach ( claimsift_queued_ids( CLAIMSIFT_BATCH_SIZE ) as $post_id ) {
		if ( microtime( true ) - $started > CLAIMSIFT_RUN_SECONDS ) {
			break;
		}
		$outcome = claimsift_check_queued_post( $post_id );
		if ( is_wp_error( $outcome ) ) {
			$error = $outcome; // the service's trouble, not the post's: stop, keep it queued
			break;
		}
		++$run[ $outcome ];
	}
	$status = claimsift_record_run( $run, $error );
	if ( null !== $error ) {
		claimsift_schedule_queue( $status['retry_delay'] );
	} elseif ( claimsift_queue_length() > 0 ) {
		claimsift_schedule_queue( 0 );
	}
}

/**
 * Sends one queued post's text to the service and stores the result.
 *
 * @param int $post_id Post ID.
 * @return string|WP_Error 'checked', 'failed' (stored as the post's error, not retried) or the service's
 *                         retryable error.
 */
function claimsift_check_queued_post( $post_id ) {
	$post = get_post( $post_id );
	if ( ! $post ) {
		delete_post_meta( $post_id, CLAIMSIFT_META_QUEUED );
		return 'failed';
	}
	$html = strip_shortcodes( $post->post_content );
	if ( '' === trim( wp_strip_all_tags( $html ) ) ) {
		return claimsift_give_up( $post, __( 'The post has no text to check.', 'claimsift' ) );
	}
	// The whole content as HTML: the service splits sentences at block boundaries and drops the
	// block delimiters (HTML comments).
	$result = claimsift_service_extract(
		array(
			'text'   => $html,
			'format' => 'html',
		)
	);
	if ( is_wp_error( $result ) ) {
		$data = $result->get_error_data();
		return empty( $data['retry'] ) ? claimsift_give_up( $post, $result->get_error_message() ) : $result;
	}
	claimsift_store_result( $post, $result );
	delete_post_meta( $post->ID, CLAIMSIFT_META_QUEUED );
	return 'checked';
}

/**
 * Takes a post the service cannot check (no text, too long) off the queue, keeping the reason.
 *
 * @param WP_Post $post    The post.
 * @param string  $message Why.
 * @return string 'failed'
 */
function claimsift_give_up( WP_Post $post, $message ) {
	update_post_meta( $post->ID, CLAIMSIFT_META_ERROR, wp_slash( $message ) );
	delete_post_meta( $post->ID, CLAIMSIFT_META_QUEUED );
	return 'failed';
}

/**
 * The queue's state: consecutive failures, the last error, the wait before the retry and when it is due,
 * the last runs.
 *
 * @return array{failures: int, last_error: string, retry_delay: int, next_retry: int, runs: array, waiting: int}
 */
function claimsift_queue_status() {
	$stored = get_option( CLAIMSIFT_QUEUE_STATUS, array() );
	$status = array_merge(
		array(
			'failures'    => 0,
			'last_error'  => '',
			'retry_delay' => 0,
			'next_retry'  => 0,
			'runs'        => array(),
		),
		is_array( $stored ) ? $stored : array()
	);
	$status['waiting'] = claimsift_queue_length();
	return $status;
}

/**
 * Records a run (the last CLAIMSIFT_RUNS_KEPT are kept) and, after a failure, when to retry.
 *
 * @param array         $run   {at, checked, failed}.
 * @param WP_Error|null $error The service's error that stopped the run.
 * @return array The new status.
 */
function claimsift_record_run( array $run, $error ) {
	$status = claimsift_queue_status();
	unset( $status['waiting'] );
	$status['runs'] = array_slice( array_merge( $status['runs'], array( $run ) ), -CLAIMSIFT_RUNS_KEPT );
	if ( null === $error ) {
		$status['failures']    = 0;
		$status['last_error']  = '';
		$status['retry_delay'] = 0;
		$status['next_retry']  = 0;
	} else {
		++$status['failures'];
		$status['last_error']  = $error->get_error_message();
		$status['retry_delay'] = (int) min( CLAIMSIFT_RETRY_MAX_DELAY, CLAIMSIFT_RETRY_DELAY * ( 2 ** min( 16, $status['failures'] - 1 ) ) );
		$status['next_retry']  = time() + $status['retry_delay'];
	}
	update_option( CLAIMSIFT_QUEUE_STATUS, $status, false );
	return $status;
}
