<?php
/**
 * The plugin's two settings: the service's address and how petitions load by default.
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

const PETITION_WIDGET_LANGUAGES = array( 'en', 'fr', 'be', 'ru' );
const PETITION_WIDGET_SLUG      = '/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/';
const PETITION_WIDGET_PARTNER   = '/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/';

/**
 * Registered on every request (not only in the admin), so that a bad address is refused
 * however the option is written.
 */
function petition_widget_register_setting() {
	register_setting(
		'petition_widget',
		'petition_widget_service',
		array(
			'type'              => 'string',
			'default'           => '',
			'sanitize_callback' => 'petition_widget_sanitize_service',
			'show_in_rest'      => false,
		)
	);
	register_setting(
		'petition_widget',
		'petition_widget_load',
		array(
			'type'              => 'string',
			'default'           => 'page',
			'sanitize_callback' => 'petition_widget_sanitize_load',
			'show_in_rest'      => false,
		)
	);
}

/**
 * The service's origin (https://petitions.example.org), or '' when none is set.
 */
function petition_widget_service() {
	return (string) get_option( 'petition_widget_service', '' );
}

/**
 * What an address typed in the settings becomes: an origin, or the previous value and an
 * error that says what is wrong.
 *
 * @param mixed $value The submitted address.
 */
function petition_widget_sanitize_service( $value ) {
	$value = rtrim( trim( (string) $value ), '/' );
	if ( '' === $value ) {
		return '';
	}
	$error = petition_widget_origin_error( $value );
	if ( null === $error ) {
		return strtolower( $value );
	}
	if ( function_exists( 'add_settings_error' ) ) { // only loaded in the admin
		add_settings_error( 'petition_widget_service', 'petition_widget_service', $error );
	}
	return petition_widget_service();
}

/**
 * Why an address is not the origin of a service, or null when it is one.
 *
 * @param string $value The address.
 */
function petition_widget_origin_error( $value ) {
	$parts = wp_parse_url( $value );
	if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
		return __( 'The petition service address must be a full address such as https://petitions.example.org.', 'petition-widget' );
	}
	if ( ! in_array( strtolower( $parts['scheme'] ), array( 'https', 'http' ), true ) ) {
		return __( 'The petition service address must start with https://.', 'petition-widget' );
	}
	if ( isset( $parts['user'] ) || isset( $parts['pass'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] ) || ( isset( $parts['path'] ) && '' !== $parts['path'] ) ) {
		return __( 'The petition service address is the site alone, such as https://petitions.example.org, without a path, a query or a name.', 'petition-widget' );
	}
	if ( ! preg_match( '/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i', $parts['host'] ) ) {
		return __( 'The petition service address has a host name that is not valid.', 'petition-widget' );
	}
	return null;
}

/**
 * How petitions load when a shortcode or block does not say: 'page' or 'click'.
 *
 * @param mixed $value The submitted choice.
 */
function petition_widget_sanitize_load( $value ) {
	return 'click' === $value ? 'click' : 'page';
}
